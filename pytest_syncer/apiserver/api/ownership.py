"""``metadata.managedFields`` upkeep on every write, and server-side apply, for the ObjectAPI.

The field-set rules live in :mod:`managed_fields` (pure); this module reads the type's schema,
stamps times and turns apply conflicts into the 409 ``Status`` Kubernetes answers.
"""

from __future__ import annotations

from typing import Any

from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.kinds.normalise import managed_fields_times
from pytest_syncer.apiserver.api.managed_fields import (
    ApplyConflictError,
    ManagerEntry,
    apply_configuration,
    parse_entries,
    path_text,
    record_update,
)
from pytest_syncer.apiserver.api.objects import now_timestamp
from pytest_syncer.apiserver.api.resources import ResourceType
from pytest_syncer.apiserver.api.strategic_merge import schema_for


def _schema(resource_type: ResourceType) -> Any:
    """The built-in schema of the type, else a custom resource's own structural schema."""
    return schema_for(resource_type.api_version, resource_type.kind) or resource_type.schema


def _entries_json(entries: list[ManagerEntry]) -> list[dict[str, Any]]:
    return [entry.to_json() for entry in entries]


def _with_managed_fields(obj: dict[str, Any], managed: list[dict[str, Any]]) -> dict[str, Any]:
    result = dict(obj)
    metadata = dict(result.get("metadata") or {})
    if managed:
        metadata["managedFields"] = managed
    else:
        metadata.pop("managedFields", None)
    result["metadata"] = metadata
    return result


def record_write(
    resource_type: ResourceType,
    old: dict[str, Any] | None,
    new: dict[str, Any],
    *,
    manager: str,
    subresource: str = "",
) -> dict[str, Any]:
    """``new`` with ownership moved as an Update by ``manager`` moves it.

    A body that sets ``managedFields`` itself (different from the stored ones) keeps them, as
    Kubernetes lets clients reset ownership.
    """
    sent = (new.get("metadata") or {}).get("managedFields")
    stored = ((old or {}).get("metadata") or {}).get("managedFields")
    # A patch carries the stored entries on: equal to them, their times need no rewriting.
    given = sent if sent == stored else managed_fields_times(sent)
    if given and given != stored:
        return {**new, "metadata": {**new["metadata"], "managedFields": given}}
    schema = _schema(resource_type)
    entries = parse_entries(stored)
    updated = record_update(
        entries,
        old,
        new,
        schema,
        manager=manager,
        api_version=resource_type.api_version,
        time=now_timestamp(),
        subresource=subresource,
    )
    managed = stored if updated is entries and stored else _entries_json(updated)
    return _with_managed_fields(new, managed or [])


def apply(
    resource_type: ResourceType,
    live: dict[str, Any] | None,
    config: dict[str, Any],
    *,
    manager: str,
    force: bool,
    subresource: str = "",
) -> dict[str, Any]:
    """What server-side apply of ``config`` by ``manager`` makes of ``live``; 409 on conflicts."""
    if resource_type.has_status and not subresource:
        config = {key: value for key, value in config.items() if key != "status"}
    schema = _schema(resource_type)
    stored = ((live or {}).get("metadata") or {}).get("managedFields")
    entries = parse_entries(stored)
    try:
        merged, updated = apply_configuration(
            entries,
            live,
            config,
            schema,
            manager=manager,
            api_version=resource_type.api_version,
            time=now_timestamp(),
            force=force,
            subresource=subresource,
        )
    except ApplyConflictError as exc:
        name = ((live or {}).get("metadata") or {}).get("name", "")
        raise APIError(
            409,
            str(exc),
            reason="Conflict",
            name=name,
            kind=resource_type.resource,
            group=resource_type.group,
            causes=[
                {
                    "reason": "FieldManagerConflict",
                    "message": f'conflict with "{other}" using {api_version}',
                    "field": path_text(path),
                }
                for other, api_version, path in exc.conflicts
            ],
        ) from None
    same_owners = [(e.identity, e.fields) for e in updated] == [
        (e.identity, e.fields) for e in entries
    ]
    managed = stored if same_owners and stored else _entries_json(updated)
    return _with_managed_fields(merged, managed or [])
