"""What the API server does to each built-in kind on the way in, as pure functions over JSON.

Three steps, called from the generic write path (``objects.py`` and ``api.py``):
``on_write`` (every create, update, patch and apply, dry-run included: normalisation then
defaulting), ``on_create`` (fields the server sets once: a Job's selector, a new Pod's status),
``immutable_field_errors`` (what an update may not change). Service addresses need the cluster's
other Services and are allocated by ``api.py`` through ``server_set.allocate_service``.
"""

from __future__ import annotations

from typing import Any

from pytest_syncer.apiserver.api.kinds import server_set
from pytest_syncer.apiserver.api.kinds.defaults import apply_defaults
from pytest_syncer.apiserver.api.kinds.immutability import immutable_field_errors
from pytest_syncer.apiserver.api.kinds.normalise import secret_string_data
from pytest_syncer.apiserver.api.validation.field_errors import FieldError

__all__ = ["immutable_field_errors", "on_create", "on_write"]


def on_write(group: str, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """The object as the server decodes it: ``stringData`` folded in, defaults filled."""
    if kind == "Secret" and not group:
        obj = secret_string_data(obj)
    return apply_defaults(group, kind, obj)


def on_create(
    group: str, kind: str, obj: dict[str, Any]
) -> tuple[dict[str, Any], list[FieldError]]:
    """The fields set once at creation (after uid and name are known); refusals to report."""
    if group == "batch" and kind == "Job":
        return server_set.job_selector(obj)
    if not group and kind == "Pod":
        return server_set.pod_status(obj), []
    if not group and kind == "Namespace":  # the label needs the name generateName made
        return apply_defaults(group, kind, obj), []
    return obj, []
