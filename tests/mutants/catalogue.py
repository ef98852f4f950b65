"""Broken syncers: the reference syncer with one behaviour broken each, and the conformance
behaviours that must catch it.

Each mutant patches one function of the reference syncer inside the syncer's own process
(`run.py`), so the harness, the hub and the clusters are untouched: only the system under test
is wrong. `tests` names the e2e tests that show the broken behaviour; `behaviours` the report
rows that must say `failed`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Patch = Callable[[list[str]], list[str]]
"""Applied in the syncer's process before its main; gets and returns the syncer's arguments."""


@dataclass(frozen=True)
class Mutant:
    name: str
    breaks: str
    behaviours: tuple[str, ...]
    tests: tuple[str, ...]
    patch: Patch
    options: tuple[str, ...] = ()
    """Extra options of the nested pytest run (a service level to check)."""
    fast: bool = False
    """In the subset CI runs on every change."""


PLACE_UPDATE = "test_workloads.py::test_place_update_relabel_delete[configmap.yaml]"
COPY_CARRIES = (
    "test_conformance.py::test_a_copy_carries_its_cluster_label_and_no_upstream_bookkeeping"
)
MUTANTS: dict[str, Mutant] = {}


def mutant(
    breaks: str,
    behaviours: tuple[str, ...],
    tests: tuple[str, ...],
    *,
    options: tuple[str, ...] = (),
    fast: bool = False,
) -> Callable[[Patch], Patch]:
    def register(patch: Patch) -> Patch:
        name = patch.__name__.replace("_", "-")
        MUTANTS[name] = Mutant(name, breaks, behaviours, tests, patch, options, fast)
        return patch

    return register


def _without_step(step: str) -> None:
    from pytest_syncer.syncer.handlers import base

    base._SHARED_PIPELINE.remove(step)


@mutant("status never copied up", ("status.deployment.aggregate",), ("test_status.py",))
def status_never_copied_up(argv: list[str]) -> list[str]:
    from pytest_syncer.syncer.engine.status_collector import StatusCollector

    async def collect(self: Any, key: Any) -> None:
        return None

    StatusCollector._collect = collect  # type: ignore[method-assign]
    return argv


@mutant("deletes below never made", ("core.removal",), (PLACE_UPDATE,))
def deletes_not_propagated(argv: list[str]) -> list[str]:
    from pytest_syncer.kubeclient.client import KubeClient
    from pytest_syncer.syncer.engine.spec import SpecSyncer

    original = SpecSyncer.__init__

    class NoDelete:
        def __init__(self, client: KubeClient) -> None:
            self._client = client

        def __getattr__(self, name: str) -> Any:
            return getattr(self._client, name)

        async def delete(self, *args: Any, **kwargs: Any) -> None:
            return None

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._down = NoDelete(self._down)

    SpecSyncer.__init__ = init  # type: ignore[method-assign]
    return argv


@mutant("a removed placement label is ignored", ("core.removal",), (PLACE_UPDATE,))
def label_removal_ignored(argv: list[str]) -> list[str]:
    from pytest_syncer.syncer.engine.spec import SpecSyncer

    SpecSyncer.placed = lambda self, obj: True  # type: ignore[method-assign]
    return argv


@mutant(
    "drift below kept when upstream did not change",
    ("conflicts.upstream-wins",),
    ("test_conflicts.py::test_conflict_scenario[upstream-wins-drift]",),
)
def drift_kept(argv: list[str]) -> list[str]:
    from pytest_syncer.syncer.engine.spec import SpecSyncer

    original = SpecSyncer._sync

    async def sync(self: Any, key: Any, synced: Any, upstream: Any) -> float | None:
        if self._written_from.get(key) == upstream["metadata"].get("resourceVersion"):
            return None
        return await original(self, key, synced, upstream)

    SpecSyncer._sync = sync  # type: ignore[method-assign]
    return argv


@mutant(
    "upstream updates never applied below",
    ("core.update",),
    (PLACE_UPDATE,),
    fast=True,
)
def updates_ignored(argv: list[str]) -> list[str]:
    from pytest_syncer.syncer.engine.spec import SpecSyncer

    original = SpecSyncer._sync

    async def sync(self: Any, key: Any, synced: Any, upstream: Any) -> float | None:
        if key in self._written_from:
            return None
        return await original(self, key, synced, upstream)

    SpecSyncer._sync = sync  # type: ignore[method-assign]
    return argv


@mutant(
    "foreign objects below overwritten under abort",
    ("conflicts.abort",),
    ("test_conflicts.py::test_conflict_scenario[abort-foreign]",),
    fast=True,
)
def foreign_overwritten(argv: list[str]) -> list[str]:
    from pytest_syncer.syncer.conflict.resolver import StrategyResolver
    from pytest_syncer.syncer.interfaces import ConflictAction, ConflictDecision

    def foreign(self: Any, desired: Any, existing: Any, owner: Any) -> Any:
        version = existing["metadata"].get("resourceVersion")
        written = {**desired, "metadata": {**desired["metadata"], "resourceVersion": version}}
        return ConflictDecision(ConflictAction.WRITE, written, "took it over")

    StrategyResolver._foreign = foreign  # type: ignore[method-assign]
    return argv


@mutant(
    "retained fields overwritten",
    ("conflicts.retain",),
    (
        "test_conflicts.py::test_conflict_scenario[retain-replicas]",
        "test_conflicts.py::test_retained_field_stays_while_the_rest_follows_upstream",
    ),
)
def retained_overwritten(argv: list[str]) -> list[str]:
    from pytest_syncer.syncer.conflict.resolver import StrategyResolver

    StrategyResolver._retained = lambda self, desired, existing: desired  # type: ignore[method-assign]
    return argv


@mutant(
    "downstream namespace hash cut to 11 characters",
    ("core.naming.namespace-hash",),
    (COPY_CARRIES,),
    fast=True,
)
def namespace_hash_11(argv: list[str]) -> list[str]:
    from pytest_syncer.contract import naming

    original = naming.namespace_for_locator
    naming.namespace_for_locator = lambda locator: original(locator)[:-1]
    return argv


@mutant(
    "placement labels leaked below",
    ("core.transform.upstream-metadata-stripped",),
    (COPY_CARRIES,),
)
def state_labels_leaked(argv: list[str]) -> list[str]:
    _without_step("strip-upstream-labels")
    return argv


@mutant(
    "pod templates keep the upstream service account",
    ("core.transform.service-account-detached",),
    (COPY_CARRIES,),
)
def service_account_kept(argv: list[str]) -> list[str]:
    _without_step("detach-service-account")
    return argv


@mutant(
    "the upstream's finalizers copied down with the rest of its metadata",
    ("core.server-fields.left-alone",),
    (COPY_CARRIES,),
)
def server_fields_copied_down(argv: list[str]) -> list[str]:
    from pytest_syncer.syncer.handlers import base
    from pytest_syncer.syncer.transform import metadata

    def strip_but_finalizers(obj: Any, context: Any) -> Any:
        finalizers = obj["metadata"].get("finalizers")
        stripped = metadata.strip_server_metadata(obj, context)
        if not finalizers:
            return stripped
        return {**stripped, "metadata": {**stripped["metadata"], "finalizers": finalizers}}

    base._SHARED_PIPELINE.remove("strip-server-metadata")
    base._SHARED_PIPELINE.register(
        "strip-server-metadata-but-finalizers",
        strip_but_finalizers,
        after="strip-upstream-annotations",
    )
    return argv


@mutant(
    "heartbeat written once, then never",
    ("status.heartbeat",),
    ("test_conformance.py::test_every_syncer_keeps_heartbeating_its_sync_target",),
)
def heartbeat_stopped(argv: list[str]) -> list[str]:
    from pytest_syncer.syncer.engine import heartbeat, target

    original = heartbeat.beat_forever

    async def beat_once(client: Any, name: str, interval: float, log: Any) -> None:
        task = asyncio.ensure_future(original(client, name, interval, log))
        await asyncio.sleep(interval / 2)
        task.cancel()
        await asyncio.Event().wait()

    target.beat_forever = beat_once  # type: ignore[assignment]
    return argv


@mutant(
    "the shared finalizer never released",
    ("core.finalizer",),
    ("test_conformance.py::test_the_shared_finalizer_holds_the_workload_until_every_copy_is_gone",),
)
def finalizer_kept(argv: list[str]) -> list[str]:
    from pytest_syncer.syncer.engine import spec

    async def keep(*args: Any, **kwargs: Any) -> None:
        return None

    spec.remove_finalizer = keep
    return argv


@mutant(
    "the soft finalizer ignored",
    ("core.soft-finalizer",),
    ("test_conformance.py::test_a_soft_finalizer_keeps_the_copy_until_it_is_cleared",),
)
def soft_finalizer_ignored(argv: list[str]) -> list[str]:
    from pytest_syncer.syncer.engine.spec import SpecSyncer

    SpecSyncer._held_by_soft_finalizer = lambda self, obj: False  # type: ignore[method-assign]
    return argv


@mutant(
    "no SyncStatus verdict ever written",
    ("status.syncstatus.synced",),
    ("test_conformance.py::test_each_target_reports_synced_at_the_upstream_generation",),
)
def sync_status_never_reported(argv: list[str]) -> list[str]:
    from pytest_syncer.syncer.engine.reporter import StatusReporter

    StatusReporter.submit = lambda self, *args, **kwargs: None  # type: ignore[method-assign]
    return argv


@mutant(
    "every path allowed through the tunnel",
    ("tunnel.allow-list",),
    ("test_tunnel.py::test_tunnel_refuses_a_target_path_outside_the_allow_list[/metrics]",),
)
def allow_list_open(argv: list[str]) -> list[str]:
    from pytest_syncer.tunnel.client import PathAllowList

    PathAllowList.allows = lambda self, path_and_query: True  # type: ignore[method-assign]
    return argv


@mutant(
    "the tunnel registered with the next target's token",
    ("tunnel.reach",),
    ("test_tunnel.py::test_tunnel_reaches_each_targets_own_api",),
)
def tunnel_crossed(argv: list[str]) -> list[str]:
    flag = "--tunnel-token-file"
    own = Path(argv[argv.index(flag) + 1])
    tokens = sorted(own.parent.iterdir())
    crossed = tokens[(tokens.index(own) + 1) % len(tokens)]
    return [str(crossed) if arg == str(own) else arg for arg in argv]


@mutant(
    "2 s before every write below",
    ("slo.sync-p99",),
    (PLACE_UPDATE,),
    options=("--syncer-slo=sync-p99=1s",),
)
def slow_writes(argv: list[str]) -> list[str]:
    from pytest_syncer.kubeclient.client import KubeClient

    for name in ("create", "replace"):
        original = getattr(KubeClient, name)

        async def slow(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            await asyncio.sleep(2)
            return await _original(self, *args, **kwargs)

        setattr(KubeClient, name, slow)
    return argv


NOT_BUILT = {
    "wrong-aggregate": "the aggregate rules run in the hub, which the harness starts itself: "
    "--syncer-command cannot put a broken hub under test",
}
"""Broken behaviours the catalogue cannot express, and why."""
