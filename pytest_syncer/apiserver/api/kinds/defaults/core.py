"""Core (``v1``) defaults: Pod and pod templates, Service, Secret, PVC, Namespace, Endpoints.

Source: kubernetes/kubernetes ``pkg/apis/core/v1/defaults.go`` (``SetDefaults_PodSpec``,
``SetDefaults_Pod``, ``SetDefaults_Container``, ``SetDefaults_Probe``,
``SetDefaults_HTTPGetAction``,
``SetDefaults_Volume`` and the volume sources' ``DefaultMode`` 0644, ``SetDefaults_Service``,
``SetDefaults_Secret``, ``SetDefaults_PersistentVolumeClaim(Spec)``, ``SetDefaults_Namespace``,
``SetDefaults_Endpoints``, ``SetDefaults_ObjectFieldSelector``) and the declarative ``+default``
markers of ``k8s.io/api/core/v1/types.go`` (``ContainerPort.protocol``, ``ServicePort.protocol``).
Service ``ipFamilies``/``ipFamilyPolicy`` and ``clusterIP`` are not defaults but allocations
(``server_set.py``).
"""

from __future__ import annotations

from typing import Any

from pytest_syncer.apiserver.api.kinds.tree import child, items, setdefault

TCP = "TCP"
VOLUME_DEFAULT_MODE = 0o644
"""``SecretVolumeSourceDefaultMode`` and its ConfigMap, DownwardAPI and Projected siblings."""
CLIENT_IP_TIMEOUT_SECONDS = 10800
"""``DefaultClientIPServiceAffinitySeconds``."""
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
MODE_SOURCES = ("secret", "configMap", "downwardAPI", "projected")
METADATA_NAME_LABEL = "kubernetes.io/metadata.name"


def image_tag(image: str) -> str:
    """The tag ``ParseImageName`` finds: ``latest`` when neither a tag nor a digest is given."""
    name, at, _digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    _, colon, tag = last.partition(":")
    if colon:
        return tag
    return "" if at else "latest"


def _probe(probe: dict[str, Any]) -> None:
    for field, value in (
        ("timeoutSeconds", 1),
        ("periodSeconds", 10),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ):
        if not probe.get(field):
            probe[field] = value
    get = child(probe, "httpGet")
    if get is not None:
        setdefault(get, "path", "/")
        setdefault(get, "scheme", "HTTP")


def _field_refs(container: dict[str, Any]) -> None:
    for env in items(container, "env"):
        source = child(env, "valueFrom")
        ref = None if source is None else child(source, "fieldRef")
        if ref is not None:
            setdefault(ref, "apiVersion", "v1")


def container(spec: dict[str, Any]) -> None:
    """``SetDefaults_Container`` plus port protocols, probes and env field references."""
    image = spec.get("image")
    if not spec.get("imagePullPolicy"):
        tag = image_tag(image) if isinstance(image, str) else ""
        spec["imagePullPolicy"] = "Always" if tag == "latest" else "IfNotPresent"
    setdefault(spec, "terminationMessagePath", "/dev/termination-log")
    setdefault(spec, "terminationMessagePolicy", "File")
    for port in items(spec, "ports"):
        setdefault(port, "protocol", TCP)
    for name in PROBES:
        probe = child(spec, name)
        if probe is not None:
            _probe(probe)
    _field_refs(spec)


def _volume(volume: dict[str, Any]) -> None:
    if volume.keys() <= {"name"}:
        volume["emptyDir"] = {}
        return
    for source_name in MODE_SOURCES:
        source = child(volume, source_name)
        if source is not None and source.get("defaultMode") is None:
            source["defaultMode"] = VOLUME_DEFAULT_MODE
    host_path = child(volume, "hostPath")
    if host_path is not None and host_path.get("type") is None:
        host_path["type"] = ""
    ephemeral = child(volume, "ephemeral")
    template = None if ephemeral is None else child(ephemeral, "volumeClaimTemplate")
    claim_spec = None if template is None else child(template, "spec")
    if claim_spec is not None:
        persistent_volume_claim_spec(claim_spec)


def pod_spec(spec: dict[str, Any]) -> None:
    """``SetDefaults_PodSpec`` and what it reaches: containers, volumes."""
    setdefault(spec, "dnsPolicy", "ClusterFirst")
    setdefault(spec, "restartPolicy", "Always")
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = 30
    setdefault(spec, "schedulerName", "default-scheduler")
    for name in CONTAINER_LISTS:
        for each in items(spec, name):
            container(each)
    for volume in items(spec, "volumes"):
        _volume(volume)


def pod_template(parent: dict[str, Any], key: str = "template") -> None:
    """A workload's ``template`` (``PodTemplateSpec``): its pod spec's defaults."""
    template = child(parent, key)
    spec = None if template is None else child(template, "spec")
    if spec is not None:
        pod_spec(spec)


def _requests_from_limits(spec: dict[str, Any]) -> None:
    for name in ("initContainers", "containers"):
        for each in items(spec, name):
            resources = child(each, "resources")
            limits = None if resources is None else resources.get("limits")
            if resources is None or not isinstance(limits, dict) or not limits:
                continue
            requests = child(resources, "requests", create=True)
            if requests is not None:
                for resource, quantity in limits.items():
                    requests.setdefault(resource, quantity)


def pod(obj: dict[str, Any]) -> None:
    """``SetDefaults_Pod``: requests from limits, ``enableServiceLinks``; then the pod spec."""
    spec = child(obj, "spec")
    if spec is None:
        return
    _requests_from_limits(spec)
    if spec.get("enableServiceLinks") is None:
        spec["enableServiceLinks"] = True
    pod_spec(spec)


def externally_accessible(spec: dict[str, Any]) -> bool:
    """``service.ExternallyAccessible``: LoadBalancer, NodePort, or ClusterIP with externalIPs."""
    kind = spec.get("type")
    return kind in ("LoadBalancer", "NodePort") or (
        kind == "ClusterIP" and bool(spec.get("externalIPs"))
    )


def service(obj: dict[str, Any]) -> None:
    """``SetDefaults_Service``."""
    spec = child(obj, "spec")
    if spec is None:
        return
    setdefault(spec, "sessionAffinity", "None")
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        config = spec.get("sessionAffinityConfig")
        client_ip = config.get("clientIP") if isinstance(config, dict) else None
        if not isinstance(client_ip, dict) or client_ip.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {
                "clientIP": {"timeoutSeconds": CLIENT_IP_TIMEOUT_SECONDS}
            }
    setdefault(spec, "type", "ClusterIP")
    for port in items(spec, "ports"):
        setdefault(port, "protocol", TCP)
        if port.get("targetPort") in (None, 0, "") and "port" in port:
            port["targetPort"] = port["port"]
    if externally_accessible(spec):
        setdefault(spec, "externalTrafficPolicy", "Cluster")
    if spec.get("internalTrafficPolicy") is None and spec["type"] in (
        "NodePort",
        "LoadBalancer",
        "ClusterIP",
    ):
        spec["internalTrafficPolicy"] = "Cluster"
    if spec["type"] == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True


def secret(obj: dict[str, Any]) -> None:
    setdefault(obj, "type", "Opaque")


def persistent_volume_claim_spec(spec: dict[str, Any]) -> None:
    setdefault(spec, "volumeMode", "Filesystem")


def persistent_volume_claim(obj: dict[str, Any]) -> None:
    """``SetDefaults_PersistentVolumeClaim`` (``status.phase``) and its spec's ``volumeMode``."""
    status = child(obj, "status", create=True)
    if status is not None:
        setdefault(status, "phase", "Pending")
    spec = child(obj, "spec")
    if spec is not None:
        persistent_volume_claim_spec(spec)


def namespace(obj: dict[str, Any]) -> None:
    """``SetDefaults_Namespace``: the ``kubernetes.io/metadata.name`` label, once it has a name."""
    metadata = child(obj, "metadata")
    name = None if metadata is None else metadata.get("name")
    if metadata is None or not isinstance(name, str) or not name:
        return
    labels = child(metadata, "labels", create=True)
    if labels is not None:
        labels[METADATA_NAME_LABEL] = name


def endpoints(obj: dict[str, Any]) -> None:
    for subset in items(obj, "subsets"):
        for port in items(subset, "ports"):
            setdefault(port, "protocol", TCP)
