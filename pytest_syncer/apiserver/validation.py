"""Object validation with the real API server's rules and messages, as a table of small rules.

Each rule is one function ``(obj, context) -> list[FieldError]``; ``RULES`` maps a kind to the rules
it runs after the common metadata rules. A new rule is a function and a line in the table.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_syncer.apiserver.names import (
    config_key_errors,
    dns1035_label_errors,
    dns1123_label_errors,
    dns1123_subdomain_errors,
    iana_service_name_errors,
    label_value_errors,
    path_segment_name_errors,
    qualified_name_errors,
)
from pytest_syncer.apiserver.selectors import SelectorError, label_selector_from_dict

# Field errors, shaped like apimachinery's field.Error and a Status' details.causes.

MAX_DATA_BYTES = 1024 * 1024
MAX_ANNOTATIONS_BYTES = 256 * 1024
STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})


@dataclass(frozen=True)
class FieldError:
    """One reason an object is invalid: the field path, a cause reason and the message body."""

    field: str
    reason: str
    message: str

    def to_cause(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message, "field": self.field}

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _shown(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


def required(field: str, detail: str = "") -> FieldError:
    return FieldError(
        field, "FieldValueRequired", "Required value" + (f": {detail}" if detail else "")
    )


def invalid(field: str, value: Any, detail: str) -> FieldError:
    return FieldError(field, "FieldValueInvalid", f"Invalid value: {_shown(value)}: {detail}")


def too_long(field: str, limit: int) -> FieldError:
    return FieldError(field, "FieldValueTooLong", f"Too long: must have at most {limit} bytes")


def duplicate(field: str, value: Any) -> FieldError:
    return FieldError(field, "FieldValueDuplicate", f"Duplicate value: {_shown(value)}")


def not_supported(field: str, value: Any, supported: Sequence[str]) -> FieldError:
    choices = ", ".join(_shown(choice) for choice in supported)
    return FieldError(
        field,
        "FieldValueNotSupported",
        f"Unsupported value: {_shown(value)}: supported values: {choices}",
    )


def type_invalid(field: str, value: Any, expected: str) -> FieldError:
    return FieldError(field, "FieldValueTypeInvalid", f"Invalid value: {_shown(value)}: {expected}")


def invalid_message(qualified_kind: str, name: str, errors: Sequence[FieldError]) -> str:
    """A 422's Status message: ``Deployment.apps "web" is invalid: spec.selector: ...``."""
    texts = list(dict.fromkeys(str(error) for error in errors))
    body = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    return f'{qualified_kind} "{name}" is invalid: {body}'


def invalid_status(
    kind: str, group: str, name: str, errors: Sequence[FieldError]
) -> dict[str, Any]:
    """A complete 422 ``Status`` object for ``errors``, as the real server answers."""
    qualified_kind = f"{kind}.{group}" if group else kind
    details: dict[str, Any] = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = [error.to_cause() for error in errors]
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": invalid_message(qualified_kind, name, errors),
        "reason": "Invalid",
        "details": details,
        "code": 422,
    }


# The rules.


@dataclass(frozen=True)
class RuleContext:
    kind: str
    namespaced: bool


Rule = Callable[[Mapping[str, Any], RuleContext], list[FieldError]]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _messages_to_errors(field: str, value: Any, messages: Iterable[str]) -> list[FieldError]:
    return [invalid(field, value, message) for message in messages]


NAME_RULES: dict[str, Callable[[str], list[str]]] = {
    "Namespace": dns1123_label_errors,
    "Service": dns1035_label_errors,
    **dict.fromkeys(
        ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"), path_segment_name_errors
    ),
}


def name_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """metadata.name (or generateName) is required and must fit the kind's naming scheme."""
    metadata = _mapping(obj.get("metadata"))
    name = metadata.get("name")
    generate_name = metadata.get("generateName")
    check = NAME_RULES.get(context.kind, dns1123_subdomain_errors)
    errors = []
    if generate_name:
        if not isinstance(generate_name, str):
            errors.append(type_invalid("metadata.generateName", generate_name, "must be a string"))
        else:
            # A prefix may end in a dash, since random characters follow it.
            masked = generate_name[:-1] + "a" if generate_name.endswith("-") else generate_name
            errors += _messages_to_errors("metadata.generateName", generate_name, check(masked))
    if not name:
        if not generate_name:
            errors.append(required("metadata.name", "name or generateName is required"))
        return errors
    if not isinstance(name, str):
        return [*errors, type_invalid("metadata.name", name, "must be a string")]
    return errors + _messages_to_errors("metadata.name", name, check(name))


def namespace_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """A namespaced object needs a namespace (the server fills it from the URL first)."""
    if not context.namespaced:
        return []
    namespace = _mapping(obj.get("metadata")).get("namespace")
    if not namespace:
        return [required("metadata.namespace")]
    if not isinstance(namespace, str):
        return [type_invalid("metadata.namespace", namespace, "must be a string")]
    return _messages_to_errors("metadata.namespace", namespace, dns1123_label_errors(namespace))


def labels_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    return label_map_errors(_mapping(obj.get("metadata")).get("labels"), "metadata.labels")


def label_map_errors(labels: Any, field: str) -> list[FieldError]:
    """Keys must be qualified names and values label values, all reported at ``field``."""
    if labels is None:
        return []
    if not isinstance(labels, Mapping):
        return [type_invalid(field, labels, "must be an object of strings")]
    errors = []
    for key, value in labels.items():
        errors += _messages_to_errors(field, key, qualified_name_errors(key))
        if not isinstance(value, str):
            errors.append(type_invalid(field, value, "label values must be strings"))
        else:
            errors += _messages_to_errors(field, value, label_value_errors(value))
    return errors


def annotations_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """Annotation keys are qualified names; all annotations together fit in 256 KiB."""
    annotations = _mapping(obj.get("metadata")).get("annotations")
    if annotations is None:
        return []
    field = "metadata.annotations"
    if not isinstance(annotations, Mapping):
        return [type_invalid(field, annotations, "must be an object of strings")]
    errors = []
    size = 0
    for key, value in annotations.items():
        errors += _messages_to_errors(field, key, qualified_name_errors(key.lower()))
        if not isinstance(value, str):
            errors.append(type_invalid(field, value, "annotation values must be strings"))
            continue
        size += len(key.encode()) + len(value.encode())
    if size > MAX_ANNOTATIONS_BYTES:
        errors.append(too_long(field, MAX_ANNOTATIONS_BYTES))
    return errors


def finalizers_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """Finalizers are qualified names, and unprefixed ones must be the standard few."""
    errors = []
    for index, finalizer in enumerate(_list(_mapping(obj.get("metadata")).get("finalizers"))):
        field = f"metadata.finalizers[{index}]"
        if not isinstance(finalizer, str):
            errors.append(type_invalid(field, finalizer, "must be a string"))
            continue
        messages = qualified_name_errors(finalizer)
        errors += _messages_to_errors(field, finalizer, messages)
        if not messages and "/" not in finalizer and finalizer not in STANDARD_FINALIZERS:
            errors.append(
                invalid(
                    field,
                    finalizer,
                    "name is neither a standard finalizer name nor is it fully qualified",
                )
            )
    return errors


def owner_references_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """Owner references must name their owner fully, or garbage collection cannot find it."""
    errors = []
    what = {"apiVersion": "version", "kind": "kind", "name": "name", "uid": "uid"}
    for reference in _list(_mapping(obj.get("metadata")).get("ownerReferences")):
        entry = _mapping(reference)
        for key, noun in what.items():
            if not entry.get(key):
                errors.append(
                    invalid(f"metadata.ownerReferences.{key}", "", f"{noun} must not be empty")
                )
    return errors


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
            errors += _messages_to_errors(field, key, config_key_errors(key))
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
    present = set(_mapping(obj.get("data"))) | set(_mapping(obj.get("stringData")))
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
        container = _mapping(raw)
        path = f"{field}[{index}]"
        name = container.get("name")
        if not name:
            errors.append(required(f"{path}.name"))
        elif not isinstance(name, str):
            errors.append(type_invalid(f"{path}.name", name, "must be a string"))
        else:
            errors += _messages_to_errors(f"{path}.name", name, dns1123_label_errors(name))
            if name in names:
                errors.append(duplicate(f"{path}.name", name))
            names.add(name)
        if not container.get("image"):
            errors.append(required(f"{path}.image"))
        for port_index, port in enumerate(_list(container.get("ports"))):
            port_path = f"{path}.ports[{port_index}]"
            if "containerPort" not in _mapping(port):
                errors.append(required(f"{port_path}.containerPort"))
            else:
                errors += _port_number_errors(
                    f"{port_path}.containerPort", _mapping(port)["containerPort"]
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


def _template_errors(
    template: Any, field: str, restart_policies: Sequence[str]
) -> list[FieldError]:
    if not isinstance(template, Mapping) or not template:
        return [required(field)]
    errors = label_map_errors(
        _mapping(template.get("metadata")).get("labels"), f"{field}.metadata.labels"
    )
    return errors + pod_spec_errors(template.get("spec"), f"{field}.spec", restart_policies)


def _replicas_errors(spec: Mapping[str, Any]) -> list[FieldError]:
    replicas = spec.get("replicas")
    if replicas is None:
        return []
    if isinstance(replicas, bool) or not isinstance(replicas, int):
        return [type_invalid("spec.replicas", replicas, "must be an integer")]
    if replicas < 0:
        return [invalid("spec.replicas", replicas, "must be greater than or equal to 0")]
    return []


def workload_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """Deployments, ReplicaSets, StatefulSets, DaemonSets: a selector matching the template."""
    spec = _mapping(obj.get("spec"))
    errors = _replicas_errors(spec)
    template = spec.get("template")
    errors += _template_errors(template, "spec.template", ("Always",))
    selector = spec.get("selector")
    if selector is None:
        return [*errors, required("spec.selector")]
    if not isinstance(selector, Mapping):
        return [*errors, type_invalid("spec.selector", selector, "must be a label selector")]
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        message = f"empty selector is invalid for {context.kind.lower()}"
        return [*errors, invalid("spec.selector", selector, message)]
    try:
        parsed = label_selector_from_dict(selector)
    except SelectorError as error:
        return [*errors, invalid("spec.selector", selector, str(error))]
    template_labels = _mapping(_mapping(_mapping(template).get("metadata")).get("labels"))
    if isinstance(template, Mapping) and template and not parsed.matches(template_labels):
        errors.append(
            invalid(
                "spec.template.metadata.labels",
                dict(template_labels),
                "`selector` does not match template `labels`",
            )
        )
    return errors


def job_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """A Job runs a pod template that restarts OnFailure or Never."""
    return _job_spec_errors(obj.get("spec"), "spec")


def _job_spec_errors(spec: Any, field: str) -> list[FieldError]:
    template = _mapping(spec).get("template")
    errors = _template_errors(template, f"{field}.template", ("OnFailure", "Never"))
    template_spec = _mapping(_mapping(template).get("spec"))
    if template and "restartPolicy" not in template_spec:
        errors.append(
            required(f"{field}.template.spec.restartPolicy", 'valid values: "OnFailure", "Never"')
        )
    return errors


def cronjob_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """A CronJob needs a schedule and a valid job template."""
    spec = _mapping(obj.get("spec"))
    errors = [] if spec.get("schedule") else [required("spec.schedule")]
    job_template = _mapping(spec.get("jobTemplate"))
    return errors + _job_spec_errors(job_template.get("spec"), "spec.jobTemplate.spec")


SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
PROTOCOLS = ("TCP", "UDP", "SCTP")


def service_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """A known type, ports unless headless or ExternalName, each port valid and named if many."""
    spec = _mapping(obj.get("spec"))
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
        errors += _service_port_errors(_mapping(raw), f"spec.ports[{index}]", len(ports), names)
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
        errors += _messages_to_errors(f"{field}.name", name, dns1123_label_errors(name))
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
        errors += _messages_to_errors(
            f"{field}.targetPort", target, iana_service_name_errors(target)
        )
    elif target is not None:
        errors += _port_number_errors(f"{field}.targetPort", target)
    return errors


def persistent_volume_claim_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """A claim needs access modes and a storage request, as the real server insists."""
    spec = _mapping(obj.get("spec"))
    errors = []
    if not spec.get("accessModes"):
        errors.append(required("spec.accessModes", "at least 1 access mode is required"))
    requests = _mapping(_mapping(spec.get("resources")).get("requests"))
    if "storage" not in requests:
        errors.append(required("spec.resources[storage]"))
    return errors


def ingress_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """An Ingress routes somewhere: a default backend or at least one rule."""
    spec = _mapping(obj.get("spec"))
    if spec.get("defaultBackend") or spec.get("rules"):
        return []
    return [invalid("spec", dict(spec), "either `defaultBackend` or `rules` must be specified")]


RBAC_GROUP = "rbac.authorization.k8s.io"
SUBJECT_KINDS = ("ServiceAccount", "User", "Group")


def role_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """Each policy rule names verbs, and resource rules name API groups."""
    errors = []
    for index, raw in enumerate(_list(obj.get("rules"))):
        rule = _mapping(raw)
        path = f"rules[{index}]"
        if not rule.get("verbs"):
            errors.append(required(f"{path}.verbs", "verbs must contain at least one value"))
        if rule.get("resources") and "apiGroups" not in rule:
            errors.append(
                required(f"{path}.apiGroups", "resource rules must supply at least one api group")
            )
        if context.namespaced and rule.get("nonResourceURLs"):
            errors.append(
                invalid(
                    f"{path}.nonResourceURLs",
                    rule["nonResourceURLs"],
                    "namespaced rules cannot apply to non-resource URLs",
                )
            )
    return errors


def role_binding_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """A binding refers to a role it may bind, and to subjects of known kinds."""
    errors = []
    reference = _mapping(obj.get("roleRef"))
    role_kinds = ("Role", "ClusterRole") if context.namespaced else ("ClusterRole",)
    if reference.get("apiGroup") != RBAC_GROUP:
        errors.append(
            not_supported("roleRef.apiGroup", reference.get("apiGroup", ""), [RBAC_GROUP])
        )
    if reference.get("kind") not in role_kinds:
        errors.append(not_supported("roleRef.kind", reference.get("kind", ""), role_kinds))
    if not reference.get("name"):
        errors.append(required("roleRef.name"))
    for index, raw in enumerate(_list(obj.get("subjects"))):
        subject = _mapping(raw)
        path = f"subjects[{index}]"
        if subject.get("kind") not in SUBJECT_KINDS:
            errors.append(not_supported(f"{path}.kind", subject.get("kind", ""), SUBJECT_KINDS))
        if not subject.get("name"):
            errors.append(required(f"{path}.name"))
        if (
            subject.get("kind") == "ServiceAccount"
            and not context.namespaced
            and not subject.get("namespace")
        ):
            errors.append(required(f"{path}.namespace"))
    return errors


CRD_SCOPES = ("Cluster", "Namespaced")


def custom_resource_definition_rule(
    obj: Mapping[str, Any], context: RuleContext
) -> list[FieldError]:
    """A CRD is named <plural>.<group>, has names, a scope and exactly one storage version."""
    spec = _mapping(obj.get("spec"))
    names = _mapping(spec.get("names"))
    group = spec.get("group")
    plural = names.get("plural")
    errors = []
    if not group:
        errors.append(required("spec.group"))
    elif not isinstance(group, str) or "." not in group:
        errors.append(invalid("spec.group", group, "should be a domain with at least one dot"))
    else:
        errors += _messages_to_errors("spec.group", group, dns1123_subdomain_errors(group))
    if not plural:
        errors.append(required("spec.names.plural"))
    elif isinstance(plural, str):
        errors += _messages_to_errors("spec.names.plural", plural, dns1035_label_errors(plural))
    if not names.get("kind"):
        errors.append(required("spec.names.kind"))
    name = _mapping(obj.get("metadata")).get("name")
    if group and plural and name != f"{plural}.{group}":
        errors.append(invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    scope = spec.get("scope")
    if not scope:
        errors.append(required("spec.scope"))
    elif scope not in CRD_SCOPES:
        errors.append(not_supported("spec.scope", scope, CRD_SCOPES))
    return errors + _crd_version_errors(spec.get("versions"))


def _crd_version_errors(versions: Any) -> list[FieldError]:
    if not isinstance(versions, list) or not versions:
        return [
            required("spec.versions", "must have exactly one version marked as storage version")
        ]
    errors = []
    seen: set[str] = set()
    for index, raw in enumerate(versions):
        version = _mapping(raw)
        path = f"spec.versions[{index}]"
        name = version.get("name")
        if not name:
            errors.append(required(f"{path}.name"))
        elif isinstance(name, str):
            errors += _messages_to_errors(f"{path}.name", name, dns1035_label_errors(name))
            if name in seen:
                errors.append(invalid(f"{path}.name", name, "must be unique"))
            seen.add(name)
        if not _mapping(version.get("schema")).get("openAPIV3Schema"):
            errors.append(required(f"{path}.schema.openAPIV3Schema", "schemas are required"))
    storage = [version for version in versions if _mapping(version).get("storage") is True]
    if len(storage) != 1:
        errors.append(
            invalid(
                "spec.versions",
                [_mapping(version).get("name") for version in versions],
                "must have exactly one version marked as storage version",
            )
        )
    return errors


COMMON_RULES: tuple[Rule, ...] = (
    name_rule,
    namespace_rule,
    labels_rule,
    annotations_rule,
    finalizers_rule,
    owner_references_rule,
)

RULES: dict[str, tuple[Rule, ...]] = {
    "ConfigMap": (configmap_rule,),
    "Secret": (secret_rule,),
    "Pod": (pod_rule,),
    "Service": (service_rule,),
    "Deployment": (workload_rule,),
    "ReplicaSet": (workload_rule,),
    "StatefulSet": (workload_rule,),
    "DaemonSet": (workload_rule,),
    "Job": (job_rule,),
    "CronJob": (cronjob_rule,),
    "PersistentVolumeClaim": (persistent_volume_claim_rule,),
    "Ingress": (ingress_rule,),
    "Role": (role_rule,),
    "ClusterRole": (role_rule,),
    "RoleBinding": (role_binding_rule,),
    "ClusterRoleBinding": (role_binding_rule,),
    "CustomResourceDefinition": (custom_resource_definition_rule,),
}


def validate_object(kind: str, obj: Mapping[str, Any], *, namespaced: bool) -> list[FieldError]:
    """Every reason the real API server would refuse ``obj`` of ``kind`` with 422 Invalid."""
    if not isinstance(obj.get("metadata", {}), Mapping):
        return [type_invalid("metadata", obj.get("metadata"), "must be an object")]
    context = RuleContext(kind=kind, namespaced=namespaced)
    errors: list[FieldError] = []
    for rule in (*COMMON_RULES, *RULES.get(kind, ())):
        errors += rule(obj, context)
    return errors
