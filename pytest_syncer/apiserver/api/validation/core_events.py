"""A core v1 Event's own rules: its namespace and its involvedObject's agree.

Source: kubernetes/kubernetes ``pkg/apis/core/validation/events.go`` (``legacyValidateEvent``,
which every core v1 create and update runs). Without ``eventTime`` (an old-style Event): an
``involvedObject`` without a namespace only goes with an Event in ``default`` (or none), and one
with a namespace only with an Event in that namespace. With ``eventTime``: an involvedObject
without a namespace only in ``default`` or ``kube-system``, and ``reportingComponent`` (a
qualified name; the Go field, and so the error's path, is ``reportingController``),
``reportingInstance``, ``action`` and ``reason`` are required, each within its length limit.
The events.k8s.io/v1 form has rules of its own; this one only sees ``apiVersion: v1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_syncer.apiserver.api.names import qualified_name_errors
from pytest_syncer.apiserver.api.validation.field_errors import FieldError, invalid, required
from pytest_syncer.apiserver.api.validation.rules import RuleContext, mapping_of

NAMESPACE_MISMATCH = "does not match event.namespace"
LIMITS = (("reportingInstance", 128), ("action", 128), ("reason", 128))
NOTE_LIMIT = 1024


def _text(obj: Mapping[str, Any], field: str) -> str:
    value = obj.get(field)
    return value if isinstance(value, str) else ""


def core_event_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    if obj.get("apiVersion") != "v1":
        return []
    namespace = mapping_of(obj.get("metadata")).get("namespace") or ""
    involved = _text(mapping_of(obj.get("involvedObject")), "namespace")
    mismatch = invalid("involvedObject.namespace", involved, NAMESPACE_MISMATCH)
    if not obj.get("eventTime"):
        if not involved:
            return [] if namespace in ("", "default") else [mismatch]
        return [] if namespace == involved else [mismatch]
    errors: list[FieldError] = []
    if not involved and namespace not in ("default", "kube-system"):
        errors.append(mismatch)
    controller = _text(obj, "reportingComponent")
    if not controller:
        errors.append(required("reportingController"))
    errors += [
        invalid("reportingController", controller, message)
        for message in qualified_name_errors(controller)
    ]
    for field, limit in LIMITS:
        value = _text(obj, field)
        if not value:
            errors.append(required(field))
        elif len(value) > limit:
            errors.append(invalid(field, "", f"can have at most {limit} characters"))
    if len(_text(obj, "message")) > NOTE_LIMIT:
        errors.append(invalid("message", "", f"can have at most {NOTE_LIMIT} characters"))
    return errors
