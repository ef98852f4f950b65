"""What a simulated cluster's workload controllers make: ReplicaSets for Deployments, Pods for
ReplicaSets, as Kubernetes' deployment and replicaset controllers do (``pkg/controller/
deployment``, ``pkg/controller/replicaset``); their status still comes from the profiles.

- A Deployment owns one ReplicaSet per pod template it has had, named
  ``<deployment>-<pod-template-hash>``, the hash (a label on the ReplicaSet, its selector and its
  template) being the FNV-32a of the template, encoded as ``rand.SafeEncodeString`` does. The
  ReplicaSet of the current template gets ``spec.replicas``, the others 0; each carries the
  annotation ``deployment.kubernetes.io/revision``, and a template seen again (``kubectl rollout
  undo``) moves its ReplicaSet to the next revision, which the Deployment's own annotation
  shows. So ``kubectl rollout history`` and ``rollout undo`` work. The rollout is immediate (no
  surge): old ReplicaSets go to 0 at once.
- A ReplicaSet owns ``spec.replicas`` Pods named ``<replicaset>-<5 characters>``, with the
  template's labels (so ``kubectl get pods -l app=...`` finds them) and spread over the nodes
  ``node-1..3``; extra ones are deleted, newest first.
"""

from __future__ import annotations

import copy
import json
import secrets
from typing import Any

from pytest_syncer.contract.objects import KubeObject
from pytest_syncer.kubeclient.client import ApiError, KubeClient, Resource

REPLICASETS = Resource("apps", "v1", "replicasets", "ReplicaSet")
PODS = Resource("", "v1", "pods", "Pod")
DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment")
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
#: ``k8s.io/apimachinery/pkg/util/rand``'s alphabet: no vowels, no confusable characters.
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"
NODES = ("node-1", "node-2", "node-3")


def template_hash(template: KubeObject) -> str:
    """The pod-template-hash of ``template`` (without its own hash label)."""
    data = json.dumps(_without_hash(template), sort_keys=True, separators=(",", ":")).encode()
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(_ALPHANUMS[ord(digit) % len(_ALPHANUMS)] for digit in str(value))


def _without_hash(template: KubeObject) -> KubeObject:
    stripped = copy.deepcopy(template)
    labels = (stripped.get("metadata") or {}).get("labels") or {}
    labels.pop(HASH_LABEL, None)
    return stripped


def _template_of(replicaset: KubeObject) -> KubeObject:
    return _without_hash((replicaset.get("spec") or {}).get("template") or {})


def _selector(obj: KubeObject) -> str:
    labels = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def _controlled_by(obj: KubeObject, owner: KubeObject) -> bool:
    uid = owner["metadata"].get("uid")
    references = obj["metadata"].get("ownerReferences") or []
    return any(ref.get("controller") and ref.get("uid") == uid for ref in references)


def _owner_reference(owner: KubeObject, kind: str, api_version: str) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _revision(obj: KubeObject) -> int:
    annotations = obj["metadata"].get("annotations") or {}
    try:
        return int(annotations.get(REVISION, "0"))
    except ValueError:
        return 0


async def reconcile_deployment(client: KubeClient, deployment: KubeObject) -> None:
    """The Deployment's ReplicaSets: the current template's scaled up, the others to 0."""
    metadata = deployment["metadata"]
    namespace = metadata.get("namespace", "")
    if metadata.get("deletionTimestamp"):
        return
    spec = deployment.get("spec") or {}
    listed = await client.list(REPLICASETS, namespace, label_selector=_selector(deployment))
    owned = [rs for rs in listed.get("items") or [] if _controlled_by(rs, deployment)]
    template = _without_hash(spec.get("template") or {})
    replicas = int(spec.get("replicas", 1))
    newest = max((_revision(rs) for rs in owned), default=0)
    current = next((rs for rs in owned if _template_of(rs) == template), None)
    if current is None:
        current = await _create_replicaset(client, deployment, template, newest + 1, replicas)
    else:
        wanted: dict[str, Any] = {}
        if _revision(current) < newest:
            wanted["metadata"] = {"annotations": {REVISION: str(newest + 1)}}
        if (current.get("spec") or {}).get("replicas") != replicas:
            wanted["spec"] = {"replicas": replicas}
        if wanted:
            name = current["metadata"]["name"]
            current = await client.patch(REPLICASETS, name, wanted, namespace)
    for rs in owned:
        is_old = rs["metadata"]["uid"] != current["metadata"]["uid"]
        if is_old and (rs.get("spec") or {}).get("replicas"):
            scaled_down = {"spec": {"replicas": 0}}
            await client.patch(REPLICASETS, rs["metadata"]["name"], scaled_down, namespace)
    revision = str(_revision(current))
    if (metadata.get("annotations") or {}).get(REVISION) != revision:
        patch = {"metadata": {"annotations": {REVISION: revision}}}
        await client.patch(DEPLOYMENTS, metadata["name"], patch, namespace)


async def _create_replicaset(
    client: KubeClient,
    deployment: KubeObject,
    template: KubeObject,
    revision: int,
    replicas: int,
) -> KubeObject:
    metadata = deployment["metadata"]
    hashed = template_hash(template)
    labels = {**((template.get("metadata") or {}).get("labels") or {}), HASH_LABEL: hashed}
    selector = copy.deepcopy((deployment.get("spec") or {}).get("selector") or {})
    selector.setdefault("matchLabels", {})[HASH_LABEL] = hashed
    rs_template = copy.deepcopy(template)
    rs_template.setdefault("metadata", {})["labels"] = labels
    name = f"{metadata['name']}-{hashed}"
    replicaset: KubeObject = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": metadata.get("namespace", ""),
            "labels": labels,
            "annotations": {REVISION: str(revision), DESIRED_REPLICAS: str(replicas)},
            "ownerReferences": [_owner_reference(deployment, "Deployment", "apps/v1")],
        },
        "spec": {"replicas": replicas, "selector": selector, "template": rs_template},
    }
    try:
        return await client.create(REPLICASETS, replicaset)
    except ApiError as error:
        if not error.already_exists:
            raise
        return await client.get(REPLICASETS, name, metadata.get("namespace", ""))


JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
#: The apiVersion of each kind that owns Pods.
POD_OWNERS = {
    "ReplicaSet": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "Job": "batch/v1",
}


def _wanted_pods(owner: KubeObject, kind: str) -> list[tuple[str, str, dict[str, str]]]:
    """(name, node, extra labels) of each Pod ``owner`` should have; a name ending in ``-``
    gets five random characters (ReplicaSets, DaemonSets, Jobs), as generateName does."""
    name = owner["metadata"]["name"]
    spec = owner.get("spec") or {}
    if kind == "StatefulSet":
        return [
            (
                f"{name}-{index}",
                NODES[index % len(NODES)],
                {
                    "statefulset.kubernetes.io/pod-name": f"{name}-{index}",
                    "apps.kubernetes.io/pod-index": str(index),
                },
            )
            for index in range(int(spec.get("replicas", 1)))
        ]
    if kind == "DaemonSet":
        return [(f"{name}-", node, {}) for node in NODES]
    if kind == "Job":
        count = min(int(spec.get("parallelism", 1)), int(spec.get("completions", 1)))
        uid = owner["metadata"].get("uid", "")
        labels = {JOB_NAME_LABEL: name, "job-name": name, CONTROLLER_UID_LABEL: uid}
        return [(f"{name}-", NODES[index % len(NODES)], labels) for index in range(count)]
    replicas = int(spec.get("replicas", 1))
    return [(f"{name}-", NODES[index % len(NODES)], {}) for index in range(replicas)]


async def reconcile_pods(client: KubeClient, owner: KubeObject, kind: str = "ReplicaSet") -> None:
    """The Pods ``owner`` (a ReplicaSet, StatefulSet, DaemonSet or Job) controls: a
    ReplicaSet's ``spec.replicas`` ``<name>-<5 characters>`` (extra ones deleted, newest
    first), a StatefulSet's ``<name>-<ordinal>`` (ordinals past ``replicas`` deleted), one per
    node for a DaemonSet, and ``min(parallelism, completions)`` for a Job, created once."""
    metadata = owner["metadata"]
    namespace = metadata.get("namespace", "")
    if metadata.get("deletionTimestamp"):
        return
    selector = f"{JOB_NAME_LABEL}={metadata['name']}" if kind == "Job" else _selector(owner)
    listed = await client.list(PODS, namespace, label_selector=selector)
    controlled = [pod for pod in listed.get("items") or [] if _controlled_by(pod, owner)]
    pods = [pod for pod in controlled if not pod["metadata"].get("deletionTimestamp")]
    wanted = _wanted_pods(owner, kind)
    template = (owner.get("spec") or {}).get("template") or {}
    if kind == "Job" and pods:
        return
    if kind == "StatefulSet":
        # A terminating Pod still holds its name: its ordinal comes back once it is gone.
        present = {pod["metadata"]["name"] for pod in controlled}
        missing = [want for want in wanted if want[0] not in present]
        names = {want[0] for want in wanted}
        extra = [pod for pod in pods if pod["metadata"]["name"] not in names]
    elif kind == "DaemonSet":
        nodes = {(pod.get("spec") or {}).get("nodeName") for pod in pods}
        missing = [want for want in wanted if want[1] not in nodes]
        extra = []
    else:
        missing = wanted[len(pods) :]
        newest_first = sorted(
            pods, key=lambda pod: str(pod["metadata"].get("creationTimestamp", "")), reverse=True
        )
        extra = newest_first[: max(0, len(pods) - len(wanted))]
    for name, node, labels in missing:
        await client.create(PODS, _pod(owner, kind, template, name, node, labels))
    for pod in extra:
        await client.delete(PODS, pod["metadata"]["name"], namespace)


def _pod(
    owner: KubeObject,
    kind: str,
    template: KubeObject,
    name: str,
    node: str,
    labels: dict[str, str],
) -> KubeObject:
    metadata = owner["metadata"]
    template_metadata = template.get("metadata") or {}
    pod_spec = copy.deepcopy(template.get("spec") or {})
    pod_spec.setdefault("nodeName", node)
    if kind == "StatefulSet":
        pod_spec.setdefault("hostname", name)
        service = (owner.get("spec") or {}).get("serviceName")
        if service:
            pod_spec.setdefault("subdomain", service)
    if name.endswith("-"):
        name += "".join(secrets.choice(_ALPHANUMS) for _ in range(5))
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": metadata.get("namespace", ""),
            "labels": {**(template_metadata.get("labels") or {}), **labels},
            "annotations": dict(template_metadata.get("annotations") or {}),
            "ownerReferences": [_owner_reference(owner, kind, POD_OWNERS[kind])],
        },
        "spec": pod_spec,
    }


SERVICES = Resource("", "v1", "services", "Service")
ENDPOINTS = Resource("", "v1", "endpoints", "Endpoints")
ENDPOINT_SLICES = Resource("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice")
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"


def _ready(pod: KubeObject) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _target_port(service_port: KubeObject, pod: KubeObject) -> int | None:
    """The pod's port a Service port sends to: a number, or a named container port."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target:
                return int(port["containerPort"])
    return None


def endpoints_for(
    service: KubeObject, pods: list[KubeObject]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The Endpoints ``subsets``, and the EndpointSlice ``endpoints`` and ``ports``, of the
    started (addressed) Pods ``service`` selects, as the endpoints controllers list them."""
    spec = service.get("spec") or {}
    selector = spec.get("selector") or {}
    namespace = service["metadata"].get("namespace", "")
    chosen = [
        pod
        for pod in pods
        if pod["metadata"].get("namespace", "") == namespace
        and not pod["metadata"].get("deletionTimestamp")
        and (pod.get("status") or {}).get("podIP")
        and all((pod["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items())
    ]
    chosen.sort(key=lambda pod: str(pod["metadata"]["name"]))
    service_ports = spec.get("ports") or []
    ports = []
    for service_port in service_ports:
        number = _target_port(service_port, chosen[0]) if chosen else None
        if number is None:
            continue
        port = {"port": number, "protocol": service_port.get("protocol", "TCP")}
        if service_port.get("name"):
            port["name"] = service_port["name"]
        ports.append(port)
    ready: list[dict[str, Any]] = []
    not_ready: list[dict[str, Any]] = []
    slice_endpoints: list[dict[str, Any]] = []
    for pod in chosen:
        reference = {
            "kind": "Pod",
            "namespace": namespace,
            "name": pod["metadata"]["name"],
            "uid": pod["metadata"].get("uid", ""),
        }
        node = (pod.get("spec") or {}).get("nodeName")
        address = {"ip": pod["status"]["podIP"], "nodeName": node, "targetRef": reference}
        (ready if _ready(pod) else not_ready).append(address)
        slice_endpoints.append(
            {
                "addresses": [pod["status"]["podIP"]],
                "conditions": {"ready": _ready(pod), "serving": _ready(pod), "terminating": False},
                "nodeName": node,
                "targetRef": reference,
            }
        )
    subsets: list[dict[str, Any]] = []
    if chosen and ports:
        subset: dict[str, Any] = {"ports": ports}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        subsets.append(subset)
    return subsets, slice_endpoints, ports


async def reconcile_endpoints(
    client: KubeClient, service: KubeObject, pods: list[KubeObject]
) -> None:
    """The Endpoints (named as the Service) and EndpointSlice (``<service>-<hash>``) of a
    Service with a selector, both owned by it so they go when it goes."""
    metadata = service["metadata"]
    if not (service.get("spec") or {}).get("selector") or metadata.get("deletionTimestamp"):
        return
    namespace = metadata.get("namespace", "")
    subsets, slice_endpoints, ports = endpoints_for(service, pods)
    owner = [{**_owner_reference(service, "Service", "v1"), "blockOwnerDeletion": True}]
    labels = dict(metadata.get("labels") or {})
    endpoints = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": metadata["name"],
            "namespace": namespace,
            "labels": labels,
            "ownerReferences": owner,
        },
        "subsets": subsets,
    }
    await _create_or_update(client, ENDPOINTS, endpoints, ("subsets",))
    endpoint_slice = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"{metadata['name']}-{template_hash({'service': metadata['name']})[:5]}",
            "namespace": namespace,
            "labels": {
                **labels,
                SERVICE_NAME_LABEL: metadata["name"],
                MANAGED_BY_LABEL: MANAGED_BY,
            },
            "ownerReferences": owner,
        },
        "addressType": "IPv4",
        "endpoints": slice_endpoints,
        "ports": ports,
    }
    await _create_or_update(client, ENDPOINT_SLICES, endpoint_slice, ("endpoints", "ports"))


async def _create_or_update(
    client: KubeClient, resource: Resource, wanted: KubeObject, fields: tuple[str, ...]
) -> None:
    name = wanted["metadata"]["name"]
    namespace = wanted["metadata"]["namespace"]
    existing = await client.get_or_none(resource, name, namespace)
    if existing is None:
        try:
            await client.create(resource, wanted)
        except ApiError as error:
            if not error.already_exists:
                raise
        return
    if all((existing.get(field) or []) == wanted[field] for field in fields):
        return
    updated = {**existing, **{field: wanted[field] for field in fields}}
    await client.replace(resource, updated)
