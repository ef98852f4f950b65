"""Rules for ``apiextensions.k8s.io``: CustomResourceDefinitions.

As ``apiextensions-apiserver/pkg/apis/apiextensions/validation`` checks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_syncer.apiserver.api.names import dns1035_label_errors, dns1123_subdomain_errors
from pytest_syncer.apiserver.api.validation.field_errors import (
    FieldError,
    invalid,
    not_supported,
    required,
)
from pytest_syncer.apiserver.api.validation.rules import RuleContext, mapping_of, messages_to_errors

CRD_SCOPES = ("Cluster", "Namespaced")


def custom_resource_definition_rule(
    obj: Mapping[str, Any], context: RuleContext
) -> list[FieldError]:
    """A CRD is named <plural>.<group>, has names, a scope and exactly one storage version."""
    spec = mapping_of(obj.get("spec"))
    names = mapping_of(spec.get("names"))
    group = spec.get("group")
    plural = names.get("plural")
    errors = []
    if not group:
        errors.append(required("spec.group"))
    elif not isinstance(group, str) or "." not in group:
        errors.append(invalid("spec.group", group, "should be a domain with at least one dot"))
    else:
        errors += messages_to_errors("spec.group", group, dns1123_subdomain_errors(group))
    if not plural:
        errors.append(required("spec.names.plural"))
    elif isinstance(plural, str):
        errors += messages_to_errors("spec.names.plural", plural, dns1035_label_errors(plural))
    if not names.get("kind"):
        errors.append(required("spec.names.kind"))
    name = mapping_of(obj.get("metadata")).get("name")
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
        version = mapping_of(raw)
        path = f"spec.versions[{index}]"
        name = version.get("name")
        if not name:
            errors.append(required(f"{path}.name"))
        elif isinstance(name, str):
            errors += messages_to_errors(f"{path}.name", name, dns1035_label_errors(name))
            if name in seen:
                errors.append(invalid(f"{path}.name", name, "must be unique"))
            seen.add(name)
        if not mapping_of(version.get("schema")).get("openAPIV3Schema"):
            errors.append(required(f"{path}.schema.openAPIV3Schema", "schemas are required"))
    storage = [version for version in versions if mapping_of(version).get("storage") is True]
    if len(storage) != 1:
        errors.append(
            invalid(
                "spec.versions",
                [mapping_of(version).get("name") for version in versions],
                "must have exactly one version marked as storage version",
            )
        )
    return errors
