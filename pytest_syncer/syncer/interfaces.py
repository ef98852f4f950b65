"""The typed parts the reference syncer is built from.

The parts (transform steps, conflict resolution, workload handlers, status collection and
aggregation) are Protocols, so another implementation can be swapped in without inheriting from
anything. The objects they exchange (SyncTarget, namespace locator, SyncStatus) are the shapes in
`pytest_syncer.contract.objects`, which the harness reads too; the transform treats its input as
read-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

from pytest_syncer.contract.errors import UnknownNamespaceError
from pytest_syncer.contract.naming import SYNCER_DOMAIN_PREFIX
from pytest_syncer.contract.objects import (
    KubeObject,
    NamespaceLocator,
    SyncStatusRecord,
    SyncTarget,
)


@dataclass(frozen=True)
class TransformContext:
    """What a transform step may know besides the object itself.

    `own_annotations` and `own_labels` are the syncer's own names, stripped on the way down: an
    entry ending in `/` covers the whole domain. `namespace_locators` maps downstream namespace
    names to their locators, for the upstream direction (the syncer reads them from the
    `kcp.io/namespace-locator` annotations of its namespaces).
    """

    sync_target: SyncTarget
    own_annotations: tuple[str, ...] = (SYNCER_DOMAIN_PREFIX,)
    own_labels: tuple[str, ...] = (SYNCER_DOMAIN_PREFIX,)
    namespace_locators: Mapping[str, NamespaceLocator] = field(default_factory=dict)

    def locator(self, upstream_namespace: str) -> NamespaceLocator:
        """The locator of an upstream namespace of this target's upstream cluster."""
        return NamespaceLocator(
            self.sync_target, self.sync_target.upstream_cluster, upstream_namespace
        )

    def upstream_locator(self, downstream_namespace: str) -> NamespaceLocator:
        """The locator behind a downstream namespace; `UnknownNamespaceError` if none is known."""
        try:
            return self.namespace_locators[downstream_namespace]
        except KeyError:
            raise UnknownNamespaceError(
                "metadata.namespace", f"no locator known for namespace {downstream_namespace!r}"
            ) from None

    def with_locators(self, locators: Iterable[NamespaceLocator]) -> TransformContext:
        """A copy that also knows these locators, keyed by their downstream namespace."""
        known = dict(self.namespace_locators)
        known.update((locator.downstream_namespace, locator) for locator in locators)
        return replace(self, namespace_locators=known)


class TransformStep(Protocol):
    """A pure function of (object, context) -> object that never mutates its input."""

    def __call__(self, obj: KubeObject, context: TransformContext, /) -> KubeObject: ...


class ConflictStrategy(StrEnum):
    """How a syncer treats a downstream object that differs from what it would write."""

    UPSTREAM_WINS = "upstream-wins"
    RETAIN = "retain"
    OVERWRITE = "overwrite"
    ABORT = "abort"


class ConflictAction(StrEnum):
    """What the engine does after a resolver decided."""

    WRITE = "write"
    """Write `ConflictDecision.obj` below (create, revert drift, or take a foreign object over)."""
    KEEP = "keep"
    """Leave the downstream object: it already is what the strategy wants."""
    REFUSE = "refuse"
    """Leave the downstream object and report a conflict (foreign object, `abort`)."""


@dataclass(frozen=True)
class ConflictDecision:
    """A resolver's verdict; `reason` shows on the SyncStatus and in an Event."""

    action: ConflictAction
    obj: KubeObject | None
    reason: str


class ConflictResolver(Protocol):
    """Decides between the transformed upstream object and what is already below."""

    def resolve(
        self, desired: KubeObject, existing: KubeObject | None, context: TransformContext
    ) -> ConflictDecision: ...


class WorkloadHandler(Protocol):
    """What one kind needs beyond the generic pipeline."""

    @property
    def api_version(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def resource(self) -> str: ...

    def to_downstream(self, obj: KubeObject, context: TransformContext) -> KubeObject: ...

    def status_to_upstream(
        self, downstream_status: Mapping[str, Any], context: TransformContext
    ) -> dict[str, Any]: ...

    def spec(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """The top-level fields the syncer owns below (`spec`; `data` for a ConfigMap ...)."""
        ...

    def is_ready(self, obj: Mapping[str, Any]) -> bool:
        """Whether the downstream controllers finished with this object (rolled out, Bound ...)."""
        ...


class StatusCollector(Protocol):
    """Carries one target's downstream statuses up into its SyncStatus objects.

    It runs beside the target's engine for the engine's whole life (it watches and writes on
    its own), so the contract is its lifecycle; `syncer.engine.status_collector` has ours.
    """

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class StatusAggregator(Protocol):
    """Folds every target's record of one workload into the upstream `.status`.

    Ours is the hub's `pytest_syncer.hub.aggregator.StatusAggregator`; its per-kind rules
    are the pure `pytest_syncer.status.aggregate`, extended with `register_rule`.
    """

    def aggregate(
        self, workload: KubeObject, records: Sequence[SyncStatusRecord]
    ) -> dict[str, Any]: ...
