"""The collector's SyncStatus patch when its informer lags: a counter that went away below (a
zero counter is omitted) must be nulled, not left behind because the cached SyncStatus never
showed the write that put it there."""

from __future__ import annotations

import asyncio
from typing import Any

from pytest_syncer.contract.objects import SyncTarget
from pytest_syncer.syncer.engine.status_collector import StatusCollector

STALE_SYNC_STATUS = {
    "metadata": {"name": "daemonsets.agent.t1", "namespace": "ns", "uid": "u1"},
    "status": {"phase": "Synced"},
}
"""What the informer holds throughout: it has not seen any of the collector's writes yet."""


class Upstream:
    """Records each patch the collector sends."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []

    async def patch(self, resource: Any, name: str, body: Any, namespace: str, **_: Any) -> None:
        self.bodies.append(body)


def copy_below(status: dict[str, int]) -> dict[str, Any]:
    return {"kind": "DaemonSet", "metadata": {"name": "agent", "generation": 1}, "status": status}


def test_a_counter_gone_below_is_nulled_though_the_cache_lags() -> None:
    upstream = Upstream()
    collector = StatusCollector(SyncTarget("t1", "upstream", "uid-t1"), upstream, None, [])  # type: ignore[arg-type]
    collector._sync_status_for = lambda kind, namespace, name: STALE_SYNC_STATUS  # type: ignore[method-assign]

    async def collect(status: dict[str, int]) -> None:
        await collector._write_sync_status(copy_below(status), "ns", "agent", "DaemonSet")

    asyncio.run(collect({"numberReady": 0, "numberUnavailable": 3}))
    asyncio.run(collect({"numberReady": 3}))
    first, second = upstream.bodies
    assert first == [
        {
            "op": "add",
            "path": "/status/downstreamStatus",
            "value": {"numberReady": 0, "numberUnavailable": 3},
        }
    ]
    assert second["status"]["downstreamStatus"] == {"numberReady": 3, "numberUnavailable": None}


def test_a_first_write_replaces_what_another_process_left_unseen() -> None:
    """A target moved into a process of its own: the new collector's cache has not seen the old
    process's last write, so its first write replaces downstreamStatus whole (a JSON patch
    `add`, which replaces an existing member) instead of merging into it."""
    upstream = Upstream()
    collector = StatusCollector(SyncTarget("t1", "upstream", "uid-t1"), upstream, None, [])  # type: ignore[arg-type]
    cached = {
        **STALE_SYNC_STATUS,
        "status": {"phase": "Synced", "downstreamStatus": {"numberReady": 3}},
    }
    collector._sync_status_for = lambda kind, namespace, name: cached  # type: ignore[method-assign]
    asyncio.run(
        collector._write_sync_status(copy_below({"numberReady": 3}), "ns", "agent", "DaemonSet")
    )
    assert upstream.bodies == [
        [{"op": "add", "path": "/status/downstreamStatus", "value": {"numberReady": 3}}]
    ]


def test_a_recreated_sync_status_is_written_whole() -> None:
    upstream = Upstream()
    collector = StatusCollector(SyncTarget("t1", "upstream", "uid-t1"), upstream, None, [])  # type: ignore[arg-type]
    statuses = iter(
        [
            STALE_SYNC_STATUS,
            {**STALE_SYNC_STATUS, "metadata": {**STALE_SYNC_STATUS["metadata"], "uid": "u2"}},
        ]
    )
    collector._sync_status_for = lambda kind, namespace, name: next(statuses)  # type: ignore[method-assign]

    async def collect(status: dict[str, int]) -> None:
        await collector._write_sync_status(copy_below(status), "ns", "agent", "DaemonSet")

    asyncio.run(collect({"numberReady": 3}))
    asyncio.run(collect({"numberReady": 3}))
    assert (
        upstream.bodies
        == [[{"op": "add", "path": "/status/downstreamStatus", "value": {"numberReady": 3}}]] * 2
    )
