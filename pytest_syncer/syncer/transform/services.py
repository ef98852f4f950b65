"""Service fields the downstream cluster allocates itself.

Cluster IPs and node ports come from the downstream cluster's own ranges; copying the upstream's
would be refused (already allocated, or out of range) or would steal another Service's. A
headless Service (`clusterIP: None`) keeps that setting: it is a choice, not an allocation.
"""

from __future__ import annotations

from typing import Any

from pytest_syncer.contract.errors import InvalidFieldError
from pytest_syncer.contract.objects import KubeObject
from pytest_syncer.syncer.interfaces import TransformContext
from pytest_syncer.syncer.transform.objects import group_of, nested_mapping

HEADLESS = "None"
_ALLOCATED_FIELDS = ("clusterIP", "clusterIPs", "healthCheckNodePort")


def _ports_without_node_ports(ports: Any) -> list[Any] | None:
    """The ports with `nodePort` dropped, or `None` when none has one."""
    if not isinstance(ports, list):
        raise InvalidFieldError("spec.ports", "must be a list")
    for index, port in enumerate(ports):
        if not isinstance(port, dict):
            raise InvalidFieldError(f"spec.ports[{index}]", "must be an object")
    if not any("nodePort" in port for port in ports):
        return None
    return [{key: value for key, value in port.items() if key != "nodePort"} for port in ports]


def drop_allocated_service_fields(obj: KubeObject, context: TransformContext) -> KubeObject:
    """Drop clusterIP(s) (unless headless), healthCheckNodePort and every nodePort."""
    if group_of(obj) or obj["kind"] != "Service":
        return obj
    spec = nested_mapping(obj, ("spec",))
    if spec is None:
        return obj
    headless = spec.get("clusterIP") == HEADLESS
    dropped = tuple(
        field
        for field in _ALLOCATED_FIELDS
        if field in spec and not (headless and field != "healthCheckNodePort")
    )
    ports = _ports_without_node_ports(spec["ports"]) if "ports" in spec else None
    if not dropped and ports is None:
        return obj
    new_spec = {key: value for key, value in spec.items() if key not in dropped}
    if ports is not None:
        new_spec["ports"] = ports
    return {**obj, "spec": new_spec}
