"""Rules for the ``apps`` group: Deployments, ReplicaSets, StatefulSets, DaemonSets.

As ``pkg/apis/apps/validation/validation.go`` in Kubernetes checks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_syncer.apiserver.api.selectors import SelectorError, label_selector_from_dict
from pytest_syncer.apiserver.api.validation.core import pod_template_errors
from pytest_syncer.apiserver.api.validation.field_errors import (
    FieldError,
    invalid,
    required,
    type_invalid,
)
from pytest_syncer.apiserver.api.validation.rules import RuleContext, mapping_of


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
    spec = mapping_of(obj.get("spec"))
    errors = _replicas_errors(spec)
    template = spec.get("template")
    errors += pod_template_errors(template, "spec.template", ("Always",))
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
    template_labels = mapping_of(mapping_of(mapping_of(template).get("metadata")).get("labels"))
    if isinstance(template, Mapping) and template and not parsed.matches(template_labels):
        errors.append(
            invalid(
                "spec.template.metadata.labels",
                dict(template_labels),
                "`selector` does not match template `labels`",
            )
        )
    return errors
