"""Public hypothesis strategies for Kubernetes objects, for fuzzing syncer transforms.

Every built-in object drawn here validates against the Kubernetes 1.32 OpenAPI schemas (strict:
no unknown fields). With `upstream=True` (the default) objects look as an upstream API server
serves them: they sometimes carry placement labels, kcp annotations and server-owned metadata
(uid, resourceVersion, managedFields, ownerReferences, finalizers, deletion fields, status), so
a transform that leaks upstream-only data is caught. `upstream=False` draws what a user would
create. `placed_on` adds a `state.workload.kcp.io/<key>: Sync` label for each key given.

    from hypothesis import given
    from pytest_syncer import strategies as k8s

    @given(k8s.deployments(), k8s.sync_targets())
    def test_my_step(deployment, target): ...

Sizes are kept small so hypothesis stays fast; names still reach their length limits sometimes.
"""

import base64
import string
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from hypothesis import strategies as st

from pytest_syncer.contract.naming import (
    CLUSTER_ANNOTATION,
    DELETION_ANNOTATION_PREFIX,
    PLACEMENT_LABEL_PREFIX,
    SOFT_FINALIZER_ANNOTATION_PREFIX,
    STATUS_ANNOTATION_PREFIX,
    base62,
)
from pytest_syncer.contract.objects import KubeObject, SyncTarget
from pytest_syncer.syncer.transform.workloads import JOB_CONTROLLER_UID_LABELS

JOB_NAME_LABELS = ("batch.kubernetes.io/job-name", "job-name")
"""The labels the API server gives a Job's template besides the controller-uid ones."""

__all__ = [
    "annotations",
    "configmaps",
    "custom_resources",
    "deployments",
    "dns_labels",
    "dns_subdomains",
    "ingresses",
    "jobs",
    "label_keys",
    "label_values",
    "namespaces",
    "object_meta",
    "secrets",
    "services",
    "statefulsets",
    "sync_targets",
]

_LOWER_ALNUM = string.ascii_lowercase + string.digits
_ALNUM = string.ascii_letters + string.digits
_WELL_KNOWN_NAMESPACES = ("default", "kube-system", "kube-public")
_PLACEMENT_STATES = ("Sync", "", "Upsync")
_IMAGES = ("nginx:1.27", "busybox", "registry.k8s.io/pause:3.10", "ghcr.io/example/app@sha256:0f")
_SERVER_FINALIZERS = ("workload.kcp.io/syncer", "kubernetes.io/pv-protection", "foregroundDeletion")


def _trimmed_text(alphabet: str, max_size: int, *, lead: str, trail: str) -> st.SearchStrategy[str]:
    """One text draw with the characters a name may not start or end with trimmed off.

    Cheaper for hypothesis than drawing the ends separately, and it still shrinks well.
    """
    return st.text(alphabet=alphabet, min_size=1, max_size=max_size).map(
        lambda text: text.lstrip(lead).rstrip(trail) or alphabet[0]
    )


@cache
def dns_labels(*, max_size: int = 63) -> st.SearchStrategy[str]:
    """RFC 1123 labels: lower-case alphanumerics and `-`, alphanumeric at both ends."""
    return _trimmed_text(_LOWER_ALNUM + "-", max_size, lead="-", trail="-")


@cache
def _dns1035_labels(*, max_size: int = 63) -> st.SearchStrategy[str]:
    """Labels that start with a letter, as Service names must."""
    return _trimmed_text(_LOWER_ALNUM + "-", max_size, lead="-" + string.digits, trail="-")


def _cut_subdomain(labels: list[str], max_size: int) -> str:
    return ".".join(labels)[:max_size].rstrip(".-")


@cache
def dns_subdomains(*, max_size: int = 253) -> st.SearchStrategy[str]:
    """RFC 1123 subdomains: dot-separated labels, at most `max_size` characters in all."""
    return st.lists(dns_labels(), min_size=1, max_size=5).map(
        lambda labels: _cut_subdomain(labels, max_size)
    )


@cache
def _qualified_names() -> st.SearchStrategy[str]:
    """The name part of a label key, and a non-empty label value: [A-Za-z0-9_.-], 63 max."""
    return _trimmed_text(_ALNUM + "-_.", 63, lead="-_.", trail="-_.")


@cache
def label_keys() -> st.SearchStrategy[str]:
    """Label and annotation keys: an optional DNS-subdomain prefix and `/`, then a name."""
    prefixes = st.one_of(st.just(""), dns_subdomains(max_size=60).map(lambda p: p + "/"))
    return st.tuples(prefixes, _qualified_names()).map("".join)


@cache
def label_values() -> st.SearchStrategy[str]:
    """Label values: empty, or up to 63 of [A-Za-z0-9_.-], alphanumeric at both ends."""
    return st.one_of(st.just(""), _qualified_names())


@cache
def _target_keys() -> st.SearchStrategy[str]:
    """Sync target keys: base62 of a 28-byte digest, as SHA-224 gives."""
    return st.binary(min_size=28, max_size=28).map(base62)


@cache
def _timestamps() -> st.SearchStrategy[str]:
    """RFC 3339 UTC seconds between 2020 and 2035."""
    return st.integers(1_577_836_800, 2_051_222_400).map(
        lambda seconds: datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )


@cache
def _kcp_annotations() -> st.SearchStrategy[dict[str, str]]:
    """The annotations kcp and the syncer put on upstream objects."""
    key = _target_keys()
    entry = st.one_of(
        st.tuples(st.just(CLUSTER_ANNOTATION), _cluster_paths()),
        st.tuples(key.map(STATUS_ANNOTATION_PREFIX.__add__), st.just('{"replicas":1}')),
        st.tuples(key.map(SOFT_FINALIZER_ANNOTATION_PREFIX.__add__), st.sampled_from(["", "x"])),
        st.tuples(key.map(DELETION_ANNOTATION_PREFIX.__add__), _timestamps()),
        st.tuples(
            st.just("workload.kcp.io/conflict-strategy"),
            st.sampled_from(["upstream-wins", "retain", "overwrite", "abort"]),
        ),
        st.tuples(st.just("workload.kcp.io/retain-fields"), st.just("spec.replicas")),
    )
    return st.lists(entry, max_size=4).map(dict)


@cache
def annotations(*, upstream: bool = True) -> st.SearchStrategy[dict[str, str]]:
    """Annotation maps with arbitrary text values; with `upstream`, kcp's own sometimes too."""
    plain = st.dictionaries(label_keys(), st.text(max_size=40), max_size=3)
    if not upstream:
        return plain
    return st.tuples(plain, _kcp_annotations()).map(lambda maps: {**maps[0], **maps[1]})


@cache
def namespaces() -> st.SearchStrategy[str]:
    """Namespace names: the well-known ones, or any DNS label."""
    return st.one_of(st.sampled_from(_WELL_KNOWN_NAMESPACES), dns_labels())


@cache
def _uids() -> st.SearchStrategy[str]:
    return st.uuids().map(str)


@cache
def _server_metadata() -> st.SearchStrategy[dict[str, Any]]:
    """Fields the API server or controllers own on a stored object, each present sometimes."""
    owner = st.fixed_dictionaries(
        {
            "apiVersion": st.just("apps/v1"),
            "kind": st.just("ReplicaSet"),
            "name": dns_labels(max_size=20),
            "uid": _uids(),
        },
        optional={"controller": st.booleans(), "blockOwnerDeletion": st.booleans()},
    )
    managed = st.fixed_dictionaries(
        {
            "manager": st.sampled_from(["kubectl", "kcp-syncer", "kube-controller-manager"]),
            "operation": st.sampled_from(["Apply", "Update"]),
            "apiVersion": st.just("v1"),
            "time": _timestamps(),
            "fieldsType": st.just("FieldsV1"),
            "fieldsV1": st.just({"f:metadata": {"f:labels": {}}}),
        }
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "uid": _uids(),
            "resourceVersion": st.integers(1, 10**9).map(str),
            "generation": st.integers(1, 1000),
            "creationTimestamp": _timestamps(),
            "managedFields": st.lists(managed, min_size=1, max_size=2),
            "ownerReferences": st.lists(owner, min_size=1, max_size=2),
            "finalizers": st.lists(st.sampled_from(_SERVER_FINALIZERS), min_size=1, unique=True),
            "deletionTimestamp": _timestamps(),
            "deletionGracePeriodSeconds": st.integers(0, 300),
            "selfLink": st.just("/api/v1/namespaces/default/configmaps/x"),
        },
    )


@cache
def _labels(min_size: int = 0, max_size: int = 3) -> st.SearchStrategy[dict[str, str]]:
    return st.dictionaries(label_keys(), label_values(), min_size=min_size, max_size=max_size)


@cache
def _placements() -> st.SearchStrategy[dict[str, str]]:
    """Placement labels for other targets, in any state."""
    states = st.sampled_from(_PLACEMENT_STATES)
    return st.dictionaries(_target_keys().map(PLACEMENT_LABEL_PREFIX.__add__), states, max_size=3)


@st.composite
def _object_meta(
    draw: st.DrawFn,
    namespaced: bool,
    upstream: bool,
    names: st.SearchStrategy[str],
    placed_on: Sequence[str],
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": draw(names)}
    if namespaced:
        metadata["namespace"] = draw(namespaces())
    labels = draw(_labels())
    if upstream:
        labels.update(draw(_placements()))
        metadata.update(draw(_server_metadata()))
    labels.update((PLACEMENT_LABEL_PREFIX + key, "Sync") for key in placed_on)
    if labels:
        metadata["labels"] = labels
    notes = draw(annotations(upstream=upstream))
    if notes:
        metadata["annotations"] = notes
    return metadata


def object_meta(
    *,
    namespaced: bool = True,
    upstream: bool = True,
    names: st.SearchStrategy[str] | None = None,
    placed_on: Sequence[str] = (),
) -> st.SearchStrategy[dict[str, Any]]:
    """`metadata` dicts; names are DNS subdomains unless `names` says otherwise."""
    return _object_meta(
        namespaced, upstream, dns_subdomains() if names is None else names, tuple(placed_on)
    )


def _with_status(
    draw: st.DrawFn, obj: KubeObject, upstream: bool, status: st.SearchStrategy[dict[str, Any]]
) -> KubeObject:
    if upstream and draw(st.booleans()):
        obj["status"] = draw(status)
    return obj


@cache
def _base64_values() -> st.SearchStrategy[str]:
    return st.binary(max_size=24).map(lambda raw: base64.b64encode(raw).decode())


@cache
def _config_keys() -> st.SearchStrategy[str]:
    """ConfigMap and Secret data keys: [-._a-zA-Z0-9]+, not `.` or `..`."""
    return st.text(alphabet=_ALNUM + "-._", min_size=1, max_size=30).filter(
        lambda key: key not in (".", "..")
    )


@st.composite
def _configmaps(draw: st.DrawFn, upstream: bool, placed_on: Sequence[str]) -> KubeObject:
    names = st.one_of(st.just("kube-root-ca.crt"), dns_subdomains())
    obj: KubeObject = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": draw(object_meta(upstream=upstream, names=names, placed_on=placed_on)),
    }
    data = draw(st.dictionaries(_config_keys(), st.text(max_size=40), max_size=3))
    if data:
        obj["data"] = data
    binary = draw(st.dictionaries(_config_keys(), _base64_values(), max_size=2))
    binary = {key: value for key, value in binary.items() if key not in data}
    if binary:
        obj["binaryData"] = binary
    if draw(st.booleans()):
        obj["immutable"] = draw(st.booleans())
    return obj


def configmaps(
    *, upstream: bool = True, placed_on: Sequence[str] = ()
) -> st.SearchStrategy[KubeObject]:
    """ConfigMaps, `kube-root-ca.crt` among them."""
    return _configmaps(upstream, tuple(placed_on))


@st.composite
def _secrets(draw: st.DrawFn, upstream: bool, placed_on: Sequence[str]) -> KubeObject:
    secret_type = draw(
        st.sampled_from(["Opaque", "kubernetes.io/service-account-token", "kubernetes.io/tls"])
    )
    if secret_type == "kubernetes.io/service-account-token":
        longest = 253 - len("default-token-")
        suffix = st.one_of(
            st.text(alphabet=_LOWER_ALNUM, min_size=5, max_size=5),
            dns_subdomains(max_size=longest),
            st.text(alphabet=_LOWER_ALNUM, min_size=longest - 4, max_size=longest),
        )
        names = suffix.map("default-token-".__add__)
    else:
        names = dns_subdomains()
    metadata = draw(object_meta(upstream=upstream, names=names, placed_on=placed_on))
    data = draw(st.dictionaries(_config_keys(), _base64_values(), max_size=3))
    if secret_type == "kubernetes.io/service-account-token":
        metadata["annotations"] = {
            **metadata.get("annotations", {}),
            "kubernetes.io/service-account.name": "default",
            "kubernetes.io/service-account.uid": draw(_uids()),
        }
        data.update({"token": "dG9rZW4=", "ca.crt": "Y2E=", "namespace": "ZGVmYXVsdA=="})
    elif secret_type == "kubernetes.io/tls":
        data.update({"tls.crt": "Y2VydA==", "tls.key": "a2V5"})
    obj: KubeObject = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": secret_type,
    }
    if data:
        obj["data"] = data
    return obj


def secrets(
    *, upstream: bool = True, placed_on: Sequence[str] = ()
) -> st.SearchStrategy[KubeObject]:
    """Opaque, TLS and service-account token Secrets (`default-token-*`, as kcp renames them)."""
    return _secrets(upstream, tuple(placed_on))


def _with_a_letter(name: str) -> str:
    return name if any(char.isalpha() for char in name) else "p" + name


@cache
def _service_names() -> st.SearchStrategy[str]:
    """IANA service names, as named ports must be: 15 characters at most, a letter among
    them, no `-` at either end or twice in a row."""
    words = st.text(alphabet=_LOWER_ALNUM, min_size=1, max_size=4)
    return st.lists(words, min_size=1, max_size=3).map(
        lambda parts: _with_a_letter("-".join(parts))
    )


@cache
def _ipv4() -> st.SearchStrategy[str]:
    return st.ip_addresses(v=4).map(str)


@st.composite
def _service_ports(draw: st.DrawFn, node_ports: bool) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 3))
    stems = draw(st.lists(dns_labels(max_size=12), min_size=count, max_size=count))
    numbers = draw(st.lists(st.integers(1, 65535), min_size=count, max_size=count, unique=True))
    node_port_numbers = draw(
        st.lists(st.integers(30000, 32767), min_size=count, max_size=count, unique=True)
    )
    ports: list[dict[str, Any]] = []
    for index, (stem, number) in enumerate(zip(stems, numbers, strict=True)):
        name = f"{stem}-{index}"
        port: dict[str, Any] = {"port": number, "protocol": draw(st.sampled_from(["TCP", "UDP"]))}
        if count > 1 or draw(st.booleans()):
            port["name"] = name
        port["targetPort"] = draw(st.one_of(st.integers(1, 65535), _service_names()))
        if node_ports:
            port["nodePort"] = node_port_numbers[index]
        ports.append(port)
    return ports


@st.composite
def _services(draw: st.DrawFn, upstream: bool, placed_on: Sequence[str]) -> KubeObject:
    service_type = draw(st.sampled_from(["ClusterIP", "Headless", "NodePort", "LoadBalancer"]))
    names = _dns1035_labels()
    metadata = draw(object_meta(upstream=upstream, names=names, placed_on=placed_on))
    node_ports = upstream and service_type in ("NodePort", "LoadBalancer")
    spec: dict[str, Any] = {"ports": draw(_service_ports(node_ports))}
    selector = draw(_labels(max_size=2))
    if selector:
        spec["selector"] = selector
    if service_type == "Headless":
        spec.update(type="ClusterIP", clusterIP="None", clusterIPs=["None"])
    else:
        spec["type"] = service_type
        if upstream:
            cluster_ip = draw(_ipv4())
            spec.update(clusterIP=cluster_ip, clusterIPs=[cluster_ip])
    if service_type == "LoadBalancer":
        spec["externalTrafficPolicy"] = draw(st.sampled_from(["Local", "Cluster"]))
        if upstream and spec["externalTrafficPolicy"] == "Local":
            spec["healthCheckNodePort"] = draw(st.integers(30000, 32767))
    if upstream:
        # What the API server fills in besides the addresses (apiserver/kinds/): defaults and
        # the IP families its allocator picks.
        dual = spec.get("clusterIP") == "None" and not selector
        spec.setdefault("sessionAffinity", "None")
        spec.setdefault("internalTrafficPolicy", "Cluster")
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "RequireDualStack" if dual else "SingleStack")
    obj: KubeObject = {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}
    status = st.fixed_dictionaries(
        {
            "loadBalancer": st.fixed_dictionaries(
                {},
                optional={
                    "ingress": st.lists(
                        st.fixed_dictionaries({"ip": _ipv4()}), min_size=1, max_size=2
                    )
                },
            )
        }
    )
    return _with_status(draw, obj, upstream, status)


def services(
    *, upstream: bool = True, placed_on: Sequence[str] = ()
) -> st.SearchStrategy[KubeObject]:
    """ClusterIP, headless, NodePort and LoadBalancer Services, with allocated IPs and ports."""
    return _services(upstream, tuple(placed_on))


@st.composite
def _containers(draw: st.DrawFn) -> list[dict[str, Any]]:
    stems = draw(st.lists(dns_labels(max_size=20), min_size=1, max_size=2))
    containers = []
    for index, stem in enumerate(stems):
        name = f"{stem}-{index}"
        container: dict[str, Any] = {"name": name, "image": draw(st.sampled_from(_IMAGES))}
        if draw(st.booleans()):
            container["ports"] = [{"containerPort": draw(st.integers(1, 65535)), "protocol": "TCP"}]
        if draw(st.booleans()):
            env_names = st.from_regex(r"\A[A-Z_][A-Z0-9_]{0,10}\Z")
            env = draw(st.dictionaries(env_names, st.text(max_size=20), min_size=1, max_size=2))
            container["env"] = [{"name": key, "value": value} for key, value in env.items()]
        if draw(st.booleans()):
            container["resources"] = {"requests": {"cpu": "100m", "memory": "64Mi"}}
        containers.append(container)
    return containers


@st.composite
def _pod_specs(draw: st.DrawFn, restart_policies: Sequence[str]) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": draw(_containers())}
    spec["restartPolicy"] = draw(st.sampled_from(restart_policies))
    if draw(st.booleans()):
        spec["serviceAccountName"] = draw(dns_subdomains(max_size=40))
    if draw(st.booleans()):
        spec["automountServiceAccountToken"] = draw(st.booleans())
    return spec


@st.composite
def _pod_workload(
    draw: st.DrawFn,
    api_version: str,
    kind: str,
    upstream: bool,
    placed_on: Sequence[str],
    restart_policies: Sequence[str],
) -> tuple[KubeObject, dict[str, str]]:
    """A workload with metadata, and the selector labels its template carries."""
    selector = draw(st.dictionaries(label_keys(), _qualified_names(), min_size=1, max_size=2))
    extra = draw(_labels(max_size=1))
    template = {
        "metadata": {"labels": {**extra, **selector}},
        "spec": draw(_pod_specs(restart_policies)),
    }
    names = dns_subdomains(max_size=63)
    obj: KubeObject = {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": draw(object_meta(upstream=upstream, names=names, placed_on=placed_on)),
        "spec": {"template": template},
    }
    return obj, selector


@cache
def _conditions(types: tuple[str, ...]) -> st.SearchStrategy[list[dict[str, Any]]]:
    condition = st.fixed_dictionaries(
        {"type": st.sampled_from(types), "status": st.sampled_from(["True", "False", "Unknown"])},
        optional={
            "reason": st.sampled_from(["MinimumReplicasAvailable", "NewReplicaSetAvailable"]),
            "message": st.text(max_size=40),
            "lastTransitionTime": _timestamps(),
        },
    )
    return st.lists(condition, max_size=len(types), unique_by=lambda item: item["type"])


@cache
def _replica_status(required: bool) -> st.SearchStrategy[dict[str, Any]]:
    counter = st.integers(0, 10)
    counters = {"replicas": counter} if required else {}
    return st.fixed_dictionaries(
        counters,
        optional={
            **({} if required else {"replicas": counter}),
            "readyReplicas": counter,
            "availableReplicas": counter,
            "updatedReplicas": counter,
            "observedGeneration": st.integers(1, 1000),
            "conditions": _conditions(("Available", "Progressing", "ReplicaFailure")),
        },
    )


@st.composite
def _deployments(draw: st.DrawFn, upstream: bool, placed_on: Sequence[str]) -> KubeObject:
    obj, selector = draw(_pod_workload("apps/v1", "Deployment", upstream, placed_on, ["Always"]))
    obj["spec"]["selector"] = {"matchLabels": selector}
    obj["spec"]["replicas"] = draw(st.integers(0, 10))
    if draw(st.booleans()):
        obj["spec"]["strategy"] = {"type": draw(st.sampled_from(["RollingUpdate", "Recreate"]))}
    return _with_status(draw, obj, upstream, _replica_status(required=False))


def deployments(
    *, upstream: bool = True, placed_on: Sequence[str] = ()
) -> st.SearchStrategy[KubeObject]:
    """Deployments whose selector matches their template, sometimes naming a service account."""
    return _deployments(upstream, tuple(placed_on))


@st.composite
def _statefulsets(draw: st.DrawFn, upstream: bool, placed_on: Sequence[str]) -> KubeObject:
    obj, selector = draw(_pod_workload("apps/v1", "StatefulSet", upstream, placed_on, ["Always"]))
    obj["spec"].update(
        selector={"matchLabels": selector},
        serviceName=draw(_dns1035_labels()),
        replicas=draw(st.integers(0, 5)),
    )
    if draw(st.booleans()):
        obj["spec"]["volumeClaimTemplates"] = [
            {
                "metadata": {"name": draw(dns_labels(max_size=20))},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            }
        ]
    return _with_status(draw, obj, upstream, _replica_status(required=True))


def statefulsets(
    *, upstream: bool = True, placed_on: Sequence[str] = ()
) -> st.SearchStrategy[KubeObject]:
    """StatefulSets with a governing Service name, sometimes with volume claim templates."""
    return _statefulsets(upstream, tuple(placed_on))


@st.composite
def _jobs(draw: st.DrawFn, upstream: bool, placed_on: Sequence[str]) -> KubeObject:
    obj, _ = draw(_pod_workload("batch/v1", "Job", upstream, placed_on, ["Never", "OnFailure"]))
    spec = obj["spec"]
    spec.update(
        {
            key: draw(st.integers(low, high))
            for key, low, high in (("backoffLimit", 0, 6), ("completions", 1, 5))
            if draw(st.booleans())
        }
    )
    if upstream and draw(st.booleans()):
        uid = draw(_uids())
        name = obj["metadata"]["name"]
        generated = dict.fromkeys(JOB_CONTROLLER_UID_LABELS, uid)
        if len(name) <= 63:  # a longer name is refused: it is no label value
            generated.update(dict.fromkeys(JOB_NAME_LABELS, name))
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        spec["template"]["metadata"]["labels"].update(generated)
        if draw(st.booleans()):  # created without labels: it reads back with the template's
            obj["metadata"].setdefault("labels", {}).update(generated)
    status = st.fixed_dictionaries(
        {},
        optional={
            "active": st.integers(0, 5),
            "succeeded": st.integers(0, 5),
            "failed": st.integers(0, 5),
            "startTime": _timestamps(),
            "conditions": _conditions(("Complete", "Failed", "Suspended")),
            "uncountedTerminatedPods": st.fixed_dictionaries(
                {"succeeded": st.lists(_uids(), max_size=2)}
            ),
        },
    )
    return _with_status(draw, obj, upstream, status)


def jobs(*, upstream: bool = True, placed_on: Sequence[str] = ()) -> st.SearchStrategy[KubeObject]:
    """Jobs; upstream ones sometimes carry the selector and the controller-uid and job-name
    labels (both forms) the API server generated for them, on the template and (a Job created
    without labels) on the Job itself."""
    return _jobs(upstream, tuple(placed_on))


@st.composite
def _ingresses(draw: st.DrawFn, upstream: bool, placed_on: Sequence[str]) -> KubeObject:
    backend = st.fixed_dictionaries(
        {
            "service": st.fixed_dictionaries(
                {
                    "name": _dns1035_labels(max_size=30),
                    "port": st.one_of(
                        st.fixed_dictionaries({"number": st.integers(1, 65535)}),
                        st.fixed_dictionaries({"name": _service_names()}),
                    ),
                }
            )
        }
    )
    path = st.fixed_dictionaries(
        {
            "path": st.lists(dns_labels(max_size=10), max_size=3).map(
                lambda segments: "/" + "/".join(segments)
            ),
            "pathType": st.sampled_from(["Prefix", "Exact", "ImplementationSpecific"]),
            "backend": backend,
        }
    )
    rule = st.fixed_dictionaries(
        {"http": st.fixed_dictionaries({"paths": st.lists(path, min_size=1, max_size=2)})},
        optional={"host": dns_subdomains(max_size=60)},
    )
    spec = draw(
        st.fixed_dictionaries(
            {"rules": st.lists(rule, min_size=1, max_size=2)},
            optional={"ingressClassName": st.sampled_from(["nginx", "traefik"])},
        )
    )
    obj: KubeObject = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": draw(object_meta(upstream=upstream, placed_on=placed_on)),
        "spec": spec,
    }
    status = st.fixed_dictionaries(
        {
            "loadBalancer": st.fixed_dictionaries(
                {
                    "ingress": st.lists(
                        st.one_of(
                            st.fixed_dictionaries({"ip": _ipv4()}),
                            st.fixed_dictionaries({"hostname": dns_subdomains(max_size=60)}),
                        ),
                        max_size=2,
                    )
                }
            )
        }
    )
    return _with_status(draw, obj, upstream, status)


def ingresses(
    *, upstream: bool = True, placed_on: Sequence[str] = ()
) -> st.SearchStrategy[KubeObject]:
    """networking.k8s.io/v1 Ingresses routing paths to Service backends."""
    return _ingresses(upstream, tuple(placed_on))


@cache
def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(-(2**31), 2**31), st.text(max_size=20)
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)
        ),
        max_leaves=8,
    )


@st.composite
def _custom_resources(draw: st.DrawFn, upstream: bool, placed_on: Sequence[str]) -> KubeObject:
    group = draw(dns_labels(max_size=20)) + "." + draw(st.sampled_from(["example.com", "io"]))
    version = draw(st.sampled_from(["v1", "v1alpha1", "v2beta1"]))
    kind = draw(st.sampled_from(string.ascii_uppercase)) + draw(
        st.text(alphabet=string.ascii_letters, max_size=15)
    )
    obj: KubeObject = {
        "apiVersion": f"{group}/{version}",
        "kind": kind,
        "metadata": draw(object_meta(upstream=upstream, placed_on=placed_on)),
        "spec": draw(st.dictionaries(st.text(max_size=10), _json_values(), max_size=4)),
    }
    status = st.dictionaries(st.text(max_size=10), _json_values(), max_size=3)
    return _with_status(draw, obj, upstream, status)


def custom_resources(
    *, upstream: bool = True, placed_on: Sequence[str] = ()
) -> st.SearchStrategy[KubeObject]:
    """Namespaced objects of made-up CRD kinds, with arbitrary JSON spec and status."""
    return _custom_resources(upstream, tuple(placed_on))


@cache
def _cluster_paths() -> st.SearchStrategy[str]:
    """kcp logical cluster paths such as `root:org:ws`."""
    return st.lists(dns_labels(max_size=20), min_size=1, max_size=3).map(
        lambda parts: ":".join(["root", *parts])
    )


@cache
def sync_targets() -> st.SearchStrategy[SyncTarget]:
    """Sync targets in arbitrary logical clusters, each with a fresh uid."""
    return st.builds(SyncTarget, name=dns_labels(), upstream_cluster=_cluster_paths(), uid=_uids())
