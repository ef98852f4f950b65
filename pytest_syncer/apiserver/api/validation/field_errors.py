"""Field errors, shaped like apimachinery's ``field.Error`` and a Status' ``details.causes``.

The shape and the messages are ``k8s.io/apimachinery/pkg/util/validation/field``'s.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


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
