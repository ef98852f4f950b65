"""Rules for the ``rbac.authorization.k8s.io`` group: Roles and RoleBindings (and cluster ones).

As ``pkg/apis/rbac/validation/validation.go`` in Kubernetes checks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_syncer.apiserver.api.validation.field_errors import (
    FieldError,
    invalid,
    not_supported,
    required,
)
from pytest_syncer.apiserver.api.validation.rules import RuleContext, list_of, mapping_of

RBAC_GROUP = "rbac.authorization.k8s.io"
SUBJECT_KINDS = ("ServiceAccount", "User", "Group")


def role_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """Each policy rule names verbs, and resource rules name API groups."""
    errors = []
    for index, raw in enumerate(list_of(obj.get("rules"))):
        rule = mapping_of(raw)
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
    reference = mapping_of(obj.get("roleRef"))
    role_kinds = ("Role", "ClusterRole") if context.namespaced else ("ClusterRole",)
    if reference.get("apiGroup") != RBAC_GROUP:
        errors.append(
            not_supported("roleRef.apiGroup", reference.get("apiGroup", ""), [RBAC_GROUP])
        )
    if reference.get("kind") not in role_kinds:
        errors.append(not_supported("roleRef.kind", reference.get("kind", ""), role_kinds))
    if not reference.get("name"):
        errors.append(required("roleRef.name"))
    for index, raw in enumerate(list_of(obj.get("subjects"))):
        subject = mapping_of(raw)
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
