"""Fields the server itself fills in on create: what no client sends and every reader sees.

Sources (kubernetes/kubernetes): Service cluster IPs, ``ipFamilies``/``ipFamilyPolicy`` and node
ports from ``pkg/registry/core/service/storage/alloc.go`` and ``storage.go``
(``patchAllocatedValues``), the ``status.loadBalancer: {}`` every Service reads back from
``pkg/registry/core/service/strategy.go``; the Job selector and labels from
``pkg/registry/batch/job/strategy.go`` (``generateSelector``); Pod ``status.phase`` and
``qosClass`` from ``pkg/registry/core/pod/strategy.go`` (``PrepareForCreate``) and
``pkg/apis/core/helper/qos`` (``GetPodQOS``).

Allocation is a pure function of what the logical cluster already holds: an address or port is
free when no stored Service carries it, so deleting a Service releases its own.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterable
from typing import Any

from pytest_syncer.apiserver.api.kinds.tree import child, items
from pytest_syncer.apiserver.api.selectors import SelectorError, label_selector_from_dict
from pytest_syncer.apiserver.api.validation.field_errors import FieldError, invalid

SERVICE_CIDR = ipaddress.IPv4Network("10.96.0.0/12")
"""kube-apiserver's ``--service-cluster-ip-range`` default; the first address is the
``kubernetes`` Service's, and neither the network nor the broadcast address is handed out."""
NODE_PORTS = range(30000, 32768)
"""``--service-node-port-range`` default, 30000-32767."""
HEADLESS = "None"
JOB_LABELS = (
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-name",
    "controller-uid",
    "job-name",
)
QOS_RESOURCES = ("cpu", "memory")
_random = random.SystemRandom()


def used_addresses(services: Iterable[dict[str, Any]]) -> tuple[set[str], set[int]]:
    """The cluster IPs and node ports ``services`` hold."""
    addresses: set[str] = set()
    ports: set[int] = set()
    for service in services:
        spec = service.get("spec") or {}
        ips = spec.get("clusterIPs") or [spec.get("clusterIP")]
        addresses.update(ip for ip in ips if isinstance(ip, str) and ip not in ("", HEADLESS))
        for port in spec.get("ports") or ():
            if isinstance(port, dict) and isinstance(port.get("nodePort"), int):
                ports.add(port["nodePort"])
        if isinstance(spec.get("healthCheckNodePort"), int):
            ports.add(spec["healthCheckNodePort"])
    return addresses, ports


def _free_address(taken: set[str]) -> str:
    first = int(SERVICE_CIDR.network_address) + 2
    last = int(SERVICE_CIDR.broadcast_address) - 1
    while True:
        candidate = str(ipaddress.IPv4Address(_random.randint(first, last)))
        if candidate not in taken:
            return candidate


def _free_port(taken: set[int]) -> int:
    free = [port for port in NODE_PORTS if port not in taken]
    return _random.choice(free)


def _address_errors(address: Any, taken: set[str]) -> list[FieldError]:
    field = "spec.clusterIPs[0]"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return []  # left to validation
    if parsed not in SERVICE_CIDR:
        return [
            invalid(
                field,
                address,
                "failed to allocate IP "
                f"{address}: the provided IP ({address}) is not in the valid range. "
                f"The range of valid IPs is {SERVICE_CIDR}",
            )
        ]
    if address in taken:
        return [
            invalid(
                field, address, f"failed to allocate IP {address}: provided IP is already allocated"
            )
        ]
    return []


def allocate_service(
    obj: dict[str, Any], taken_addresses: set[str], taken_ports: set[int]
) -> tuple[dict[str, Any], list[FieldError]]:
    """A new Service with its cluster IPs, IP families and node ports; or the refusals."""
    result = dict(obj)
    spec = child(result, "spec")
    if spec is None:
        return result, []
    kind = spec.get("type")
    status = child(result, "status", create=True)
    if status is not None:
        status.setdefault("loadBalancer", {})
    if kind == "ExternalName":
        return result, []
    errors: list[FieldError] = []
    requested = spec.get("clusterIP") or (spec.get("clusterIPs") or [None])[0]
    if requested == HEADLESS:
        spec["clusterIP"] = HEADLESS
        spec["clusterIPs"] = [HEADLESS]
        if spec.get("ipFamilyPolicy") is None:
            # alloc.go: a headless Service without a selector may take every family
            selected = bool(spec.get("selector"))
            spec["ipFamilyPolicy"] = "SingleStack" if selected else "RequireDualStack"
    elif requested:
        errors += _address_errors(requested, taken_addresses)
        spec["clusterIP"] = requested
        spec["clusterIPs"] = [requested]
    else:
        address = _free_address(taken_addresses)
        spec["clusterIP"] = address
        spec["clusterIPs"] = [address]
    if spec.get("ipFamilies") is None:
        spec["ipFamilies"] = ["IPv4"]
    if spec.get("ipFamilyPolicy") is None:
        spec["ipFamilyPolicy"] = "SingleStack"
    if kind == "NodePort" or (
        kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is not False
    ):
        errors += _node_ports(spec, set(taken_ports))
    return result, errors


def _node_ports(spec: dict[str, Any], taken: set[int]) -> list[FieldError]:
    errors: list[FieldError] = []
    ports = items(spec, "ports")
    for index, port in enumerate(ports):
        asked = port.get("nodePort")
        if isinstance(asked, int) and asked:
            if asked in taken:
                errors.append(
                    invalid(
                        f"spec.ports[{index}].nodePort", asked, "provided port is already allocated"
                    )
                )
            taken.add(asked)
    for port in ports:
        if not port.get("nodePort"):
            port["nodePort"] = _free_port(taken)
            taken.add(port["nodePort"])
    return errors


def carry_service_allocations(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """``patchAllocatedValues``: an update that leaves out the cluster IPs or node ports keeps
    the old ones (so a PUT of what a client first sent is not an immutable-field change)."""
    new_spec, old_spec = new.get("spec"), old.get("spec")
    if not isinstance(new_spec, dict) or not isinstance(old_spec, dict):
        return new
    if new_spec.get("type") == "ExternalName":
        return new
    result = dict(new)
    spec = child(result, "spec")
    assert spec is not None
    for field in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
        if not spec.get(field) and old_spec.get(field):
            spec[field] = old_spec[field]
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        old_ports = {
            (port.get("port"), port.get("protocol") or "TCP"): port.get("nodePort")
            for port in old_spec.get("ports") or ()
            if isinstance(port, dict)
        }
        for port in items(spec, "ports"):
            carried = old_ports.get((port.get("port"), port.get("protocol") or "TCP"))
            if not port.get("nodePort") and carried:
                port["nodePort"] = carried
    return result


def job_selector(obj: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """``generateSelector`` and the checks ``ValidateJob`` makes of it.

    Without ``manualSelector: true`` the template gets the job-name and controller-uid labels
    and the selector the controller-uid one, each unless already there; a copied Job whose labels
    or selector name another uid is then refused (the labels must carry this Job's uid, the
    selector must match them). A Job's own labels come from its template when it has none (the
    second defaulting, when the stored object is read back)."""
    spec = obj.get("spec")
    if not isinstance(spec, dict) or spec.get("manualSelector") is True:
        return obj, []
    metadata = obj.get("metadata") or {}
    uid, name = str(metadata.get("uid")), str(metadata.get("name"))
    result = dict(obj)
    spec = child(result, "spec")
    template = None if spec is None else child(spec, "template", create=True)
    template_metadata = None if template is None else child(template, "metadata", create=True)
    labels = None if template_metadata is None else child(template_metadata, "labels", create=True)
    if spec is None or labels is None:
        return result, []
    for label, value in zip(JOB_LABELS, (uid, name, uid, name), strict=True):
        labels.setdefault(label, value)
    selector = child(spec, "selector", create=True)
    match_labels = None if selector is None else child(selector, "matchLabels", create=True)
    if match_labels is not None:
        match_labels.setdefault(JOB_LABELS[0], uid)
    errors = [
        invalid(f"spec.template.metadata.labels[{label}]", labels, f"must be '{uid}'")
        for label in (JOB_LABELS[2], JOB_LABELS[0])
        if labels.get(label) != uid
    ]
    if selector is not None and not _selects(selector, labels):
        errors.append(
            invalid(
                "spec.template.metadata.labels",
                labels,
                "`selector` does not match template `labels`",
            )
        )
    own = child(result, "metadata", create=True)
    if own is not None and not own.get("labels"):
        own["labels"] = dict(labels)
    return result, errors


def _selects(selector: dict[str, Any], labels: dict[str, Any]) -> bool:
    try:
        return label_selector_from_dict(selector).matches(labels)
    except SelectorError:
        return True  # validation reports the selector itself


def _quantity_set(resources: Any, section: str) -> dict[str, Any]:
    found = (resources or {}).get(section) if isinstance(resources, dict) else None
    if not isinstance(found, dict):
        return {}
    return {k: v for k, v in found.items() if k in QOS_RESOURCES and v not in (0, "0", "")}


def qos_class(spec: dict[str, Any]) -> str:
    """``GetPodQOS`` over containers and init containers (after requests default to limits)."""
    requests: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    guaranteed = True
    for name in ("initContainers", "containers"):
        for each in spec.get(name) or ():
            if not isinstance(each, dict):
                continue
            asked = _quantity_set(each.get("resources"), "requests")
            capped = _quantity_set(each.get("resources"), "limits")
            requests.update(asked)
            limits.update(capped)
            if capped.keys() != set(QOS_RESOURCES) or asked != capped:
                guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def pod_status(obj: dict[str, Any]) -> dict[str, Any]:
    """A new Pod's status: ``Pending`` and its QoS class (what the client sent is dropped)."""
    spec = obj.get("spec")
    status = {"phase": "Pending"}
    if isinstance(spec, dict):
        status["qosClass"] = qos_class(spec)
    return {**obj, "status": status}
