"""Status crosses the boundary in one direction only: up, and translated.

Going down, the upstream status is dropped: the downstream controllers write their own. Coming
up, fields that only make sense inside the downstream cluster are dropped and downstream names
are mapped back, so the upstream reads a status about its own objects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pytest_syncer.contract.errors import InvalidFieldError
from pytest_syncer.contract.naming import (
    DOWNSTREAM_NAMESPACE_HASH_LENGTH,
    DOWNSTREAM_NAMESPACE_PREFIX,
)
from pytest_syncer.contract.objects import KubeObject, copy_json
from pytest_syncer.syncer.interfaces import TransformContext

DOWNSTREAM_ONLY_STATUS_FIELDS: dict[str, tuple[str, ...]] = {
    "Pod": ("hostIP", "hostIPs", "podIP", "podIPs", "nominatedNodeName"),
    "Job": ("uncountedTerminatedPods",),
}
"""Per kind, status fields about the downstream cluster's nodes, addresses or pod uids."""

_DOWNSTREAM_NAMESPACE = re.compile(
    rf"(?<![a-z0-9-]){DOWNSTREAM_NAMESPACE_PREFIX}[0-9a-z]{{{DOWNSTREAM_NAMESPACE_HASH_LENGTH}}}"
    r"(?![a-z0-9-])"
)


def drop_status(obj: KubeObject, context: TransformContext) -> KubeObject:
    """The downstream controllers write status; the upstream's would only be overwritten."""
    if "status" not in obj:
        return obj
    return {key: value for key, value in obj.items() if key != "status"}


def _map_namespaces_back(text: str, context: TransformContext) -> str:
    def upstream(match: re.Match[str]) -> str:
        locator = context.namespace_locators.get(match.group())
        return match.group() if locator is None else locator.namespace

    return _DOWNSTREAM_NAMESPACE.sub(upstream, text)


def _condition_to_upstream(condition: Any, index: int, context: TransformContext) -> Any:
    if not isinstance(condition, dict):
        raise InvalidFieldError(f"status.conditions[{index}]", "must be an object")
    mapped = {key: value for key, value in condition.items() if key != "observedGeneration"}
    message = mapped.get("message")
    if isinstance(message, str):
        mapped["message"] = _map_namespaces_back(message, context)
    return mapped


def status_to_upstream(
    kind: str, downstream_status: Mapping[str, Any], context: TransformContext
) -> dict[str, Any]:
    """The upstream form of a downstream status; the input is left untouched.

    `observedGeneration` (top level and per condition) counts downstream generations, which
    differ from the upstream's: it is dropped here, and the status collector records which
    upstream generation was applied below. Condition messages that name a downstream namespace
    name the upstream one instead.
    """
    if not isinstance(downstream_status, Mapping):
        raise InvalidFieldError("status", "must be an object")
    dropped = ("observedGeneration", *DOWNSTREAM_ONLY_STATUS_FIELDS.get(kind, ()))
    status = {
        key: copy_json(value) for key, value in downstream_status.items() if key not in dropped
    }
    conditions = status.get("conditions")
    if conditions is not None:
        if not isinstance(conditions, list):
            raise InvalidFieldError("status.conditions", "must be a list")
        status["conditions"] = [
            _condition_to_upstream(condition, index, context)
            for index, condition in enumerate(conditions)
        ]
    return status


def status_up(obj: KubeObject, context: TransformContext) -> KubeObject:
    """The pipeline step around `status_to_upstream`."""
    if "status" not in obj:
        return obj
    return {**obj, "status": status_to_upstream(obj["kind"], obj["status"], context)}
