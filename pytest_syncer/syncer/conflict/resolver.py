"""The four strategies as one pure resolver: (desired, existing) -> write, keep or refuse.

Every strategy recreates a missing copy (kcp, Karmada and OCM all do: a deleted copy is not a
conflict with another writer, only a loss) and refuses a foreign object, one without this
target's marker label, unless it is `overwrite`. They differ on drift of the syncer's own copy:
`upstream-wins` and `overwrite` revert it, `retain` reverts it except on the retained paths, and
`abort` leaves it and reports it. A write carries the existing object's resourceVersion, so a
copy that changed since it was read makes the write a 409 and the engine reads it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pytest_syncer.contract.naming import CLUSTER_LABEL
from pytest_syncer.contract.objects import KubeObject, copy_json
from pytest_syncer.syncer.conflict.annotations import parse_retain_paths
from pytest_syncer.syncer.conflict.drift import drifted_fields
from pytest_syncer.syncer.conflict.fieldpaths import (
    MISSING,
    FieldPath,
    format_field_path,
    get_field,
    with_field,
)
from pytest_syncer.syncer.interfaces import (
    ConflictAction,
    ConflictDecision,
    ConflictStrategy,
    TransformContext,
)

NAMED_FIELDS_LIMIT = 8
"""A reason names this many fields, then says how many more there are."""


def name_fields(fields: Iterable[str]) -> str:
    """`spec.replicas, spec.template...` with the tail counted, for a one-line reason."""
    listed = list(fields)
    if len(listed) <= NAMED_FIELDS_LIMIT:
        return ", ".join(listed)
    shown = ", ".join(listed[:NAMED_FIELDS_LIMIT])
    return f"{shown} and {len(listed) - NAMED_FIELDS_LIMIT} more"


def owner_key(obj: Mapping[str, Any]) -> str | None:
    """The sync target key a downstream object is marked with, `None` when unmarked."""
    value = get_field(obj, ("metadata", "labels", CLUSTER_LABEL))
    return value if isinstance(value, str) else None


def _conditional(obj: KubeObject, existing: Mapping[str, Any]) -> KubeObject:
    """A private copy of `obj` that only replaces the `existing` revision it was decided on."""
    written: KubeObject = copy_json(obj)
    version = get_field(existing, ("metadata", "resourceVersion"))
    if isinstance(version, str) and version:
        written["metadata"] = {**written["metadata"], "resourceVersion": version}
    return written


@dataclass(frozen=True)
class StrategyResolver:
    """One strategy (and, for `retain`, its paths) applied to one object at a time."""

    strategy: ConflictStrategy
    retain_fields: tuple[FieldPath, ...] = ()

    def _retained(self, desired: KubeObject, existing: Mapping[str, Any]) -> KubeObject:
        """`desired` with the downstream's value on every retained path the downstream has."""
        wanted = desired
        for path in self.retain_fields:
            value = get_field(existing, path)
            if value is not MISSING:
                wanted = with_field(wanted, path, value)
        return wanted

    @property
    def no_drift(self) -> str:
        """The reason of a plain "keep": the copy is what is wanted, nothing retained."""
        return f"{self.strategy.value}: no drift"

    def _kept_note(self, existing: Mapping[str, Any]) -> str:
        kept = [
            format_field_path(path)
            for path in self.retain_fields
            if get_field(existing, path) is not MISSING
        ]
        return f"; kept the downstream's {name_fields(kept)}" if kept else ""

    def resolve(
        self, desired: KubeObject, existing: KubeObject | None, context: TransformContext
    ) -> ConflictDecision:
        name = self.strategy.value
        if existing is None:
            return ConflictDecision(
                ConflictAction.WRITE, copy_json(desired), f"{name}: no copy below, creating it"
            )
        owner = owner_key(existing)
        if owner != context.sync_target.key:
            return self._foreign(desired, existing, owner)
        if get_field(existing, ("metadata", "deletionTimestamp")) not in (MISSING, None):
            return ConflictDecision(
                ConflictAction.KEEP,
                None,
                f"{name}: the copy below is being deleted; it is recreated once it is gone",
            )
        retaining = self.strategy is ConflictStrategy.RETAIN and bool(self.retain_fields)
        wanted = self._retained(desired, existing) if retaining else desired
        kept = self._kept_note(existing) if retaining else ""
        drift = drifted_fields(wanted, existing)
        if not drift:
            return ConflictDecision(ConflictAction.KEEP, None, self.no_drift + kept)
        fields = name_fields(drift)
        if self.strategy is ConflictStrategy.ABORT:
            return ConflictDecision(
                ConflictAction.REFUSE,
                None,
                f"abort: the copy below differs in {fields}; left as it is",
            )
        return ConflictDecision(
            ConflictAction.WRITE,
            _conditional(wanted, existing),
            f"{name}: reverted drift below in {fields}{kept}",
        )

    def _foreign(
        self, desired: KubeObject, existing: KubeObject, owner: str | None
    ) -> ConflictDecision:
        marked = "no marker label" if owner is None else f"{CLUSTER_LABEL}={owner}"
        fields = name_fields(drifted_fields(desired, existing)) or "no field"
        if self.strategy is ConflictStrategy.OVERWRITE:
            return ConflictDecision(
                ConflictAction.WRITE,
                _conditional(desired, existing),
                f"overwrite: took over a foreign object ({marked}); it differed in {fields}",
            )
        return ConflictDecision(
            ConflictAction.REFUSE,
            None,
            f"{self.strategy.value}: a foreign object ({marked}) is in the way, differing in "
            f"{fields}; left untouched (the overwrite strategy takes it over)",
        )


@lru_cache(maxsize=256)
def _resolver(strategy: ConflictStrategy, retain_fields: tuple[str, ...]) -> StrategyResolver:
    paths = parse_retain_paths(retain_fields) if strategy is ConflictStrategy.RETAIN else ()
    return StrategyResolver(strategy, paths)


def resolver_for(strategy: ConflictStrategy, retain_fields: Iterable[str] = ()) -> StrategyResolver:
    """The resolver for a strategy; `retain_fields` (dotted paths) count under `retain` only.

    A malformed or unretainable path raises `InvalidRetainFieldsError`, as `strategy_for` does.
    """
    return _resolver(ConflictStrategy(strategy), tuple(retain_fields))
