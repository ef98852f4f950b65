"""What a run observed, for the terminal summary: sync latencies, conflicts, faults, reconnects.

Standard library only and plain data, so a pytest-xdist worker can hand its figures to the
controller as JSON (`to_dict`/`merge`). Latencies are what the waits saw: from the workload
write to the first poll that found a target's copy as expected, so their resolution is the
poll interval plus one round of reads; a wait called long after the write reports the delay.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SYNCER_CONNECT = re.compile(r"target=(\S+) tunnel connected to ")
"""The line a syncer's tunnel manager logs on every connect (pytest_syncer.tunnel.manager)."""


def percentile(values: Iterable[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with `fraction` of them at or below."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def tunnel_connects(log_paths: Iterable[Path]) -> Counter[str]:
    """How often each target's tunnel connected, counted in the syncers' logs."""
    connects: Counter[str] = Counter()
    for path in log_paths:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        connects.update(match.group(1) for match in SYNCER_CONNECT.finditer(text))
    return connects


@dataclass
class RunStats:
    """The figures of one environment, or of a whole run once merged."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    """Seconds from a workload write to its copy seen as expected, per target."""
    status_latencies: list[float] = field(default_factory=list)
    """Seconds from a workload write to the aggregated status seen upstream as expected."""
    conflicts_injected: Counter[str] = field(default_factory=Counter)
    conflicts_resolved: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    reconnects: int = 0
    _pending: list[tuple[str, set[str]]] = field(default_factory=list, repr=False)
    """Each unresolved injection: its upstream namespace and the targets not yet seen."""

    def record_latency(self, target: str, seconds: float) -> None:
        self.latencies.setdefault(target, []).append(seconds)

    def record_status_latency(self, seconds: float) -> None:
        self.status_latencies.append(seconds)

    def record_fault(self, kind: str) -> None:
        self.faults[kind] += 1

    def record_conflict(self, kind: str, namespace: str, targets: Iterable[str]) -> None:
        """One conflict injected below the workloads of `namespace` on `targets`; it counts
        as resolved once waits saw every one of them as the strategy wants."""
        self.conflicts_injected[kind] += 1
        self._pending.append((namespace, set(targets)))

    def settle(self, namespace: str, targets: Iterable[str]) -> None:
        """A wait held on these targets: the conflicts pending there are resolved on them."""
        seen = set(targets)
        still: list[tuple[str, set[str]]] = []
        for where, remaining in self._pending:
            if where == namespace:
                remaining -= seen
            if remaining:
                still.append((where, remaining))
            else:
                self.conflicts_resolved += 1
        self._pending = still

    def count_reconnects(self, log_paths: Iterable[Path]) -> None:
        """Every tunnel connect after a target's first, from the syncers' logs (a hub
        restart, a dropped tunnel or a restarted syncer each make one per target)."""
        self.reconnects = sum(max(0, n - 1) for n in tunnel_connects(log_paths).values())

    def all_latencies(self) -> list[float]:
        return [value for values in self.latencies.values() for value in values]

    def merge(self, other: RunStats) -> None:
        for target, values in other.latencies.items():
            self.latencies.setdefault(target, []).extend(values)
        self.status_latencies.extend(other.status_latencies)
        self.conflicts_injected.update(other.conflicts_injected)
        self.conflicts_resolved += other.conflicts_resolved
        self.faults.update(other.faults)
        self.reconnects += other.reconnects

    def to_dict(self) -> dict[str, Any]:
        return {
            "latencies": self.latencies,
            "status_latencies": self.status_latencies,
            "conflicts_injected": dict(self.conflicts_injected),
            "conflicts_resolved": self.conflicts_resolved,
            "faults": dict(self.faults),
            "reconnects": self.reconnects,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunStats:
        return cls(
            latencies={name: list(values) for name, values in data["latencies"].items()},
            status_latencies=list(data.get("status_latencies", [])),
            conflicts_injected=Counter(data["conflicts_injected"]),
            conflicts_resolved=int(data["conflicts_resolved"]),
            faults=Counter(data["faults"]),
            reconnects=int(data["reconnects"]),
        )

    def summary_lines(self) -> list[str]:
        """The terminal summary's figures, one line each."""
        values = self.all_latencies()
        if values:
            figures = ", ".join(
                f"p{round(q * 100)} {percentile(values, q):.2f}s" for q in (0.5, 0.95, 0.99)
            )
            slowest = max(self.latencies, key=lambda name: max(self.latencies[name]))
            lines = [
                f"sync latency: {figures} over {len(values)} copies on "
                f"{len(self.latencies)} targets (slowest target {slowest}, "
                f"{max(self.latencies[slowest]):.2f}s)"
            ]
        else:
            lines = ["sync latency: no wait observed a sync"]
        injected = sum(self.conflicts_injected.values())
        kinds = _by_kind(self.conflicts_injected)
        lines.append(f"conflicts: {injected} injected{kinds}, {self.conflicts_resolved} resolved")
        lines.append(f"faults: {sum(self.faults.values())} injected{_by_kind(self.faults)}")
        lines.append(f"tunnel reconnects: {self.reconnects}")
        return lines


def _by_kind(counts: Counter[str]) -> str:
    if not counts:
        return ""
    return " (" + ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())) + ")"
