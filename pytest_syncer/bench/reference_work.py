"""The machine's speed during a run: the CPU time a fixed piece of work takes, reported beside
a load test's or a benchmark's figures.

A shared machine's speed wanders (other tenants, clock frequency): here the same build's CPU per
placed cycle went from 115 to 210 ms between runs of one night, and this work alone switches
between about 120 and 200 ms within seconds. So a run samples it in slices all through (a few
milliseconds each, between requests), and reports their median scaled to the whole work; two
figures measured at different hours compare once each is divided by its run's reference. The
work is of the kind the environment spends its CPU on (JSON encoding and decoding of a
Kubernetes object, a walk over its fields in Python, hashing), always the same, and timed in
this process's CPU time. Standard library only: locust's gevent process imports it.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import time
from dataclasses import dataclass
from typing import Any

ROUNDS = 3000
"""The whole work: 0.12 to 0.2 s of CPU on the machines docs/benchmarks.md was measured on."""

SLICE_ROUNDS = 75
"""One sample: a fortieth of the work, a few milliseconds, short enough to run between a load
test's requests without delaying them noticeably."""

_DOCUMENT: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {
        "name": "reference",
        "namespace": "loadtest",
        "labels": {f"state.workload.kcp.io/target-{index:03d}": "Sync" for index in range(8)},
        "annotations": {"kcp.io/cluster": "upstream", "example.com/note": "x" * 64},
        "managedFields": [
            {
                "manager": "locust",
                "operation": "Update",
                "apiVersion": "v1",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:data": {"f:written": {}}, "f:metadata": {"f:labels": {}}},
            }
        ],
    },
    "data": {f"key-{index}": f"value {index} " * 4 for index in range(16)},
}


@dataclass(frozen=True)
class ReferenceWork:
    cpu_ms: float
    """This process's CPU milliseconds for the work."""
    digest: str
    """What the work computed: the same on every machine, or the work is not the same."""


def _field_paths(value: Any, prefix: str, into: list[str]) -> None:
    if isinstance(value, dict):
        for key in sorted(value):
            _field_paths(value[key], f"{prefix}.{key}", into)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _field_paths(item, f"{prefix}[{index}]", into)
    else:
        into.append(prefix)


def reference_work(rounds: int = ROUNDS) -> ReferenceWork:
    """Run the fixed work `rounds` times; each round's document differs by one field, so
    nothing can be cached from one round to the next."""
    hasher = hashlib.sha256()
    started = time.process_time()
    for index in range(rounds):
        document = json.loads(json.dumps(_DOCUMENT))
        document["metadata"]["resourceVersion"] = str(index)
        paths: list[str] = []
        _field_paths(document, "", paths)
        hasher.update(json.dumps(document, sort_keys=True).encode())
        hasher.update("\n".join(paths).encode())
    cpu_ms = 1000 * (time.process_time() - started)
    return ReferenceWork(cpu_ms=cpu_ms, digest=hasher.hexdigest())


@dataclass(frozen=True)
class ReferenceFigure:
    """The samples of one run, each scaled to the whole work (CPU ms)."""

    median_ms: float
    low_ms: float
    high_ms: float
    samples: int

    def text(self) -> str:
        return (
            f"reference work {self.median_ms:.0f} ms "
            f"(median of {self.samples}, {self.low_ms:.0f} to {self.high_ms:.0f})"
        )


class ReferenceSamples:
    """Slices of the work taken through a run; `figure` is the machine's speed over it."""

    def __init__(self) -> None:
        self._ms: list[float] = []

    def take(self) -> None:
        self._ms.append(reference_work(SLICE_ROUNDS).cpu_ms * ROUNDS / SLICE_ROUNDS)

    def figure(self) -> ReferenceFigure | None:
        if not self._ms:
            return None
        return ReferenceFigure(
            median_ms=statistics.median(self._ms),
            low_ms=min(self._ms),
            high_ms=max(self._ms),
            samples=len(self._ms),
        )
