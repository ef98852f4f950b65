"""The one shared finalizer on an upstream workload, added and removed without lost updates.

Built-in kinds get a strategic merge patch that adds or removes only this entry, as
controllers do; for custom resources every write names the resourceVersion it was computed
from, and a 409 means the object is read again and the decision re-made.
"""

from __future__ import annotations

import asyncio

from pytest_syncer.contract.objects import KubeObject
from pytest_syncer.kubeclient.client import STRATEGIC_MERGE_PATCH, ApiError, KubeClient, Resource

SHARED_FINALIZER = "workload.kcp.io/syncer"
MAX_ATTEMPTS = 10


def has_finalizer(obj: KubeObject) -> bool:
    return SHARED_FINALIZER in (obj["metadata"].get("finalizers") or [])


def is_deleting(obj: KubeObject) -> bool:
    return bool(obj["metadata"].get("deletionTimestamp"))


async def _merge_finalizer(
    client: KubeClient, resource: Resource, obj: KubeObject, present: bool
) -> KubeObject | None:
    """A strategic merge patch adds or drops our entry alone, so N syncers adding it at once
    never conflict; custom resources (415) fall back to a resourceVersion-checked write."""
    metadata = obj["metadata"]
    if present:
        directive: KubeObject = {"finalizers": [SHARED_FINALIZER]}
    else:
        directive = {"$deleteFromPrimitiveList/finalizers": [SHARED_FINALIZER]}
    try:
        return await client.patch(
            resource,
            metadata["name"],
            {"metadata": directive},
            metadata.get("namespace"),
            content_type=STRATEGIC_MERGE_PATCH,
        )
    except ApiError as error:
        if error.not_found:
            return None
        if error.status != 415:
            raise
    return await _set_finalizer(client, resource, obj, present)


async def _set_finalizer(
    client: KubeClient, resource: Resource, obj: KubeObject, present: bool
) -> KubeObject | None:
    """Return the object as written (or as found when nothing was to do); None when gone."""
    current: KubeObject | None = obj
    for _ in range(MAX_ATTEMPTS):
        if current is None:
            return None
        if has_finalizer(current) == present or (present and is_deleting(current)):
            return current
        metadata = current["metadata"]
        finalizers = [name for name in metadata.get("finalizers") or [] if name != SHARED_FINALIZER]
        if present:
            finalizers.append(SHARED_FINALIZER)
        patch = {
            "metadata": {"resourceVersion": metadata["resourceVersion"], "finalizers": finalizers}
        }
        try:
            return await client.patch(resource, metadata["name"], patch, metadata.get("namespace"))
        except ApiError as error:
            if error.not_found:
                return None
            if not error.conflict:
                raise
        current = await client.get_or_none(resource, metadata["name"], metadata.get("namespace"))
    raise ApiError(409, "Conflict", f"the finalizer did not stick after {MAX_ATTEMPTS} attempts")


async def remove_finalizer(
    client: KubeClient, resource: Resource, obj: KubeObject
) -> KubeObject | None:
    if not has_finalizer(obj):
        return obj
    return await _merge_finalizer(client, resource, obj, False)


class FinalizerWrites:
    """Concurrent ensures of one object by the targets of one process share one request."""

    def __init__(self) -> None:
        self._in_flight: dict[tuple[str, str, str, str], asyncio.Future[KubeObject | None]] = {}

    async def ensure(
        self, client: KubeClient, resource: Resource, obj: KubeObject, *, force: bool = False
    ) -> KubeObject | None:
        """Add the shared finalizer; `force` writes even when `obj` (from a cache that may lag)
        shows it already."""
        if is_deleting(obj) or (has_finalizer(obj) and not force):
            return obj
        metadata = obj["metadata"]
        key = (
            resource.qualified_name,
            metadata.get("namespace", ""),
            metadata["name"],
            metadata.get("uid", ""),
        )
        write = self._in_flight.get(key)
        if write is None:
            write = asyncio.ensure_future(_merge_finalizer(client, resource, obj, True))
            self._in_flight[key] = write
            write.add_done_callback(lambda _: self._in_flight.pop(key, None))
        return await asyncio.shield(write)
