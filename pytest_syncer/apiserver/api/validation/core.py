"""Rules for the core group (``v1``): ConfigMap, Secret, Pod and pod templates, Service, PVC.

As ``pkg/apis/core/validation/validation.go`` in Kubernetes checks them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pytest_syncer.apiserver.api.names import (
    config_key_errors,
    dns1123_label_errors,
    iana_service_name_errors,
)
from pytest_syncer.apiserver.api.validation.field_errors import (
    FieldError,
    duplicate,
    invalid,
    not_supported,
    required,
    too_long,
    type_invalid,
)
from pytest_syncer.apiserver.api.validation.metadata import label_map_errors
from pytest_syncer.apiserver.api.validation.rules import (
    RuleContext,
    list_of,
    mapping_of,
    messages_to_errors,
)

MAX_DATA_BYTES = 1024 * 1024


def _data_size_and_key_errors(
    obj: Mapping[str, Any], sections: Sequence[str], decode: Callable[[str, Any], bytes | None]
) -> tuple[int, list[FieldError]]:
    size = 0
    errors: list[FieldError] = []
    seen: set[str] = set()
    for section in sections:
        content = obj.get(section)
        if content is None:
            continue
        if not isinstance(content, Mapping):
            errors.append(type_invalid(section, content, "must be an object of strings"))
            continue
        for key, value in content.items():
            field = f"{section}[{key}]"
            errors += messages_to_errors(field, key, config_key_errors(key))
            if key in seen:
                errors.append(invalid(field, key, f"duplicate of key present in {sections[0]}"))
            seen.add(key)
            raw = decode(section, value)
            if raw is None:
                errors.append(_undecodable(field, section, value))
                continue
            size += len(key.encode()) + len(raw)
    return size, errors


def _undecodable(field: str, section: str, value: Any) -> FieldError:
    if not isinstance(value, str):
        return type_invalid(field, "<value omitted>", "must be a string")
    return invalid(field, "<value omitted>", f"{section} values must be base64-encoded")


def _base64_bytes(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _configmap_value(section: str, value: Any) -> bytes | None:
    if section == "binaryData":
        return _base64_bytes(value)
    return value.encode() if isinstance(value, str) else None


def _secret_value(section: str, value: Any) -> bytes | None:
    if section == "stringData":
        return value.encode() if isinstance(value, str) else None
    return _base64_bytes(value)


def configmap_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """Valid keys, none in both data and binaryData, and at most 1 MiB in all."""
    size, errors = _data_size_and_key_errors(obj, ("data", "binaryData"), _configmap_value)
    if size > MAX_DATA_BYTES:
        errors.append(too_long("[]", MAX_DATA_BYTES))
    return errors


SECRET_REQUIRED_KEYS = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/dockercfg": (".dockercfg",),
}


def secret_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """Valid keys, base64 data, at most 1 MiB, and the keys the Secret's type requires."""
    size, errors = _data_size_and_key_errors(obj, ("data", "stringData"), _secret_value)
    if size > MAX_DATA_BYTES:
        errors.append(too_long("data", MAX_DATA_BYTES))
    present = set(mapping_of(obj.get("data"))) | set(mapping_of(obj.get("stringData")))
    for key in SECRET_REQUIRED_KEYS.get(str(obj.get("type", "")), ()):
        if key not in present:
            errors.append(required(f"data[{key}]"))
    return errors


def _port_number_errors(field: str, value: Any) -> list[FieldError]:
    if isinstance(value, bool) or not isinstance(value, int):
        return [type_invalid(field, value, "must be an integer")]
    if not 1 <= value <= 65535:
        return [invalid(field, value, "must be between 1 and 65535, inclusive")]
    return []


def container_errors(containers: Any, field: str, *, required_list: bool) -> list[FieldError]:
    """Each container has a unique DNS-1123 label name, an image and valid ports."""
    if containers is None or containers == []:
        return [required(field)] if required_list else []
    if not isinstance(containers, list):
        return [type_invalid(field, containers, "must be a list of containers")]
    errors = []
    names: set[str] = set()
    for index, raw in enumerate(containers):
        container = mapping_of(raw)
        path = f"{field}[{index}]"
        name = container.get("name")
        if not name:
            errors.append(required(f"{path}.name"))
        elif not isinstance(name, str):
            errors.append(type_invalid(f"{path}.name", name, "must be a string"))
        else:
            errors += messages_to_errors(f"{path}.name", name, dns1123_label_errors(name))
            if name in names:
                errors.append(duplicate(f"{path}.name", name))
            names.add(name)
        if not container.get("image"):
            errors.append(required(f"{path}.image"))
        for port_index, port in enumerate(list_of(container.get("ports"))):
            port_path = f"{path}.ports[{port_index}]"
            if "containerPort" not in mapping_of(port):
                errors.append(required(f"{port_path}.containerPort"))
            else:
                errors += _port_number_errors(
                    f"{port_path}.containerPort", mapping_of(port)["containerPort"]
                )
    return errors


RESTART_POLICIES = ("Always", "OnFailure", "Never")


def pod_spec_errors(
    spec: Any, field: str, restart_policies: Sequence[str] = RESTART_POLICIES
) -> list[FieldError]:
    if not isinstance(spec, Mapping):
        return [required(f"{field}.containers")]
    errors = container_errors(spec.get("containers"), f"{field}.containers", required_list=True)
    errors += container_errors(
        spec.get("initContainers"), f"{field}.initContainers", required_list=False
    )
    policy = spec.get("restartPolicy")
    if policy is not None and policy not in restart_policies:
        errors.append(not_supported(f"{field}.restartPolicy", policy, restart_policies))
    return errors


def pod_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    return pod_spec_errors(obj.get("spec"), "spec")


def pod_template_errors(
    template: Any, field: str, restart_policies: Sequence[str]
) -> list[FieldError]:
    if not isinstance(template, Mapping) or not template:
        return [required(field)]
    errors = label_map_errors(
        mapping_of(template.get("metadata")).get("labels"), f"{field}.metadata.labels"
    )
    return errors + pod_spec_errors(template.get("spec"), f"{field}.spec", restart_policies)


SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
PROTOCOLS = ("TCP", "UDP", "SCTP")


def service_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """A known type, ports unless headless or ExternalName, each port valid and named if many."""
    spec = mapping_of(obj.get("spec"))
    service_type = spec.get("type", "ClusterIP")
    errors = []
    if service_type not in SERVICE_TYPES:
        errors.append(not_supported("spec.type", service_type, SERVICE_TYPES))
    if service_type == "ExternalName" and not spec.get("externalName"):
        errors.append(required("spec.externalName"))
    ports = spec.get("ports")
    headless = spec.get("clusterIP") == "None"
    if not ports:
        if not headless and service_type != "ExternalName":
            errors.append(required("spec.ports"))
        return errors
    if not isinstance(ports, list):
        return [*errors, type_invalid("spec.ports", ports, "must be a list of ports")]
    names: set[str] = set()
    for index, raw in enumerate(ports):
        errors += _service_port_errors(mapping_of(raw), f"spec.ports[{index}]", len(ports), names)
    return errors


def _service_port_errors(
    port: Mapping[str, Any], field: str, count: int, names: set[str]
) -> list[FieldError]:
    errors = []
    name = port.get("name")
    if not name:
        if count > 1:
            errors.append(required(f"{field}.name"))
    elif not isinstance(name, str):
        errors.append(type_invalid(f"{field}.name", name, "must be a string"))
    else:
        errors += messages_to_errors(f"{field}.name", name, dns1123_label_errors(name))
        if name in names:
            errors.append(duplicate(f"{field}.name", name))
        names.add(name)
    if "port" not in port:
        errors.append(required(f"{field}.port"))
    else:
        errors += _port_number_errors(f"{field}.port", port["port"])
    protocol = port.get("protocol", "TCP")
    if protocol not in PROTOCOLS:
        errors.append(not_supported(f"{field}.protocol", protocol, PROTOCOLS))
    target = port.get("targetPort")
    if isinstance(target, str):
        errors += messages_to_errors(
            f"{field}.targetPort", target, iana_service_name_errors(target)
        )
    elif target is not None:
        errors += _port_number_errors(f"{field}.targetPort", target)
    return errors


def persistent_volume_claim_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """A claim needs access modes and a storage request, as the real server insists."""
    spec = mapping_of(obj.get("spec"))
    errors = []
    if not spec.get("accessModes"):
        errors.append(required("spec.accessModes", "at least 1 access mode is required"))
    requests = mapping_of(mapping_of(spec.get("resources")).get("requests"))
    if "storage" not in requests:
        errors.append(required("spec.resources[storage]"))
    return errors
