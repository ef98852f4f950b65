"""ObjectMeta rules every kind runs: name, namespace, labels, annotations, finalizers, owners.

The limits follow ``k8s.io/apimachinery/pkg/api/validation/objectmeta.go``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pytest_syncer.apiserver.api.names import (
    dns1035_label_errors,
    dns1123_label_errors,
    dns1123_subdomain_errors,
    label_value_errors,
    path_segment_name_errors,
    qualified_name_errors,
)
from pytest_syncer.apiserver.api.validation.field_errors import (
    FieldError,
    invalid,
    required,
    too_long,
    type_invalid,
)
from pytest_syncer.apiserver.api.validation.rules import (
    RuleContext,
    list_of,
    mapping_of,
    messages_to_errors,
)

MAX_ANNOTATIONS_BYTES = 256 * 1024
STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})


NAME_RULES: dict[str, Callable[[str], list[str]]] = {
    "Namespace": dns1123_label_errors,
    "Service": dns1035_label_errors,
    **dict.fromkeys(
        ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"), path_segment_name_errors
    ),
}


def name_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """metadata.name (or generateName) is required and must fit the kind's naming scheme."""
    metadata = mapping_of(obj.get("metadata"))
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
            errors += messages_to_errors("metadata.generateName", generate_name, check(masked))
    if not name:
        if not generate_name:
            errors.append(required("metadata.name", "name or generateName is required"))
        return errors
    if not isinstance(name, str):
        return [*errors, type_invalid("metadata.name", name, "must be a string")]
    return errors + messages_to_errors("metadata.name", name, check(name))


def namespace_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """A namespaced object needs a namespace (the server fills it from the URL first)."""
    if not context.namespaced:
        return []
    namespace = mapping_of(obj.get("metadata")).get("namespace")
    if not namespace:
        return [required("metadata.namespace")]
    if not isinstance(namespace, str):
        return [type_invalid("metadata.namespace", namespace, "must be a string")]
    return messages_to_errors("metadata.namespace", namespace, dns1123_label_errors(namespace))


def labels_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    return label_map_errors(mapping_of(obj.get("metadata")).get("labels"), "metadata.labels")


def label_map_errors(labels: Any, field: str) -> list[FieldError]:
    """Keys must be qualified names and values label values, all reported at ``field``."""
    if labels is None:
        return []
    if not isinstance(labels, Mapping):
        return [type_invalid(field, labels, "must be an object of strings")]
    errors = []
    for key, value in labels.items():
        errors += messages_to_errors(field, key, qualified_name_errors(key))
        if not isinstance(value, str):
            errors.append(type_invalid(field, value, "label values must be strings"))
        else:
            errors += messages_to_errors(field, value, label_value_errors(value))
    return errors


def annotations_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """Annotation keys are qualified names; all annotations together fit in 256 KiB."""
    annotations = mapping_of(obj.get("metadata")).get("annotations")
    if annotations is None:
        return []
    field = "metadata.annotations"
    if not isinstance(annotations, Mapping):
        return [type_invalid(field, annotations, "must be an object of strings")]
    errors = []
    size = 0
    for key, value in annotations.items():
        errors += messages_to_errors(field, key, qualified_name_errors(key.lower()))
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
    for index, finalizer in enumerate(list_of(mapping_of(obj.get("metadata")).get("finalizers"))):
        field = f"metadata.finalizers[{index}]"
        if not isinstance(finalizer, str):
            errors.append(type_invalid(field, finalizer, "must be a string"))
            continue
        messages = qualified_name_errors(finalizer)
        errors += messages_to_errors(field, finalizer, messages)
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
    for reference in list_of(mapping_of(obj.get("metadata")).get("ownerReferences")):
        entry = mapping_of(reference)
        for key, noun in what.items():
            if not entry.get(key):
                errors.append(
                    invalid(f"metadata.ownerReferences.{key}", "", f"{noun} must not be empty")
                )
    return errors
