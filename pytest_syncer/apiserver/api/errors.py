"""Kubernetes ``Status`` errors: every failure a client sees is one of these.

Clients branch on ``reason`` and ``code`` (the Python client's watch reads ``object["code"]``),
so each error carries both, plus ``details`` naming the object when there is one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    500: "InternalError",
}


class APIError(Exception):
    """An error answered to the client as a ``Status`` object with this HTTP code."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        reason: str | None = None,
        name: str | None = None,
        kind: str | None = None,
        group: str | None = None,
        causes: Sequence[dict[str, Any]] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.name = name
        self.kind = kind
        self.group = group
        self.causes = list(causes)

    def to_status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        details: dict[str, Any] = {}
        if self.name is not None:
            details["name"] = self.name
        if self.group:
            details["group"] = self.group
        if self.kind is not None:
            details["kind"] = self.kind
        if self.causes:
            details["causes"] = self.causes
        if details:
            status["details"] = details
        status["code"] = self.code  # after details, where the real server writes it
        return status


def not_found(resource: str, name: str, group: str = "") -> APIError:
    qualified = f"{resource}.{group}" if group else resource
    return APIError(404, f'{qualified} "{name}" not found', name=name, kind=resource, group=group)


def already_exists(resource: str, name: str, group: str = "") -> APIError:
    qualified = f"{resource}.{group}" if group else resource
    return APIError(
        409,
        f'{qualified} "{name}" already exists',
        reason="AlreadyExists",
        name=name,
        kind=resource,
        group=group,
    )


def conflict(resource: str, name: str, group: str = "") -> APIError:
    qualified = f"{resource}.{group}" if group else resource
    return APIError(
        409,
        f'Operation cannot be fulfilled on {qualified} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        name=name,
        kind=resource,
        group=group,
    )


def expired(revision: int, compacted: int) -> APIError:
    return APIError(
        410,
        f"too old resource version: {revision} ({compacted})",
        reason="Expired",
    )


def forbidden(resource: str, name: str, cause: str, group: str = "") -> APIError:
    """What an admission plugin's refusal looks like: 403 naming the resource and object."""
    qualified = f"{resource}.{group}" if group else resource
    subject = f'{qualified} "{name}"' if name else qualified
    return APIError(
        403,
        f"{subject} is forbidden: {cause}",
        reason="Forbidden",
        name=name or None,
        kind=resource,
        group=group,
    )
