"""Opt-in service levels: `--syncer-slo sync-p99=5s,status-p99=2s` turns the latency
percentiles the harness measures (`run_stats.RunStats`) into checks with a report row each.

Off by default: the project's own tests never time themselves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pytest_syncer.harness.run_stats import RunStats, percentile

METRICS = {
    "sync": "sync latency (an upstream write to its copy seen as expected)",
    "status": "status latency (a write to the aggregated status seen upstream)",
}
_TERM = re.compile(
    r"^(?P<metric>[a-z]+)-p(?P<pct>\d{1,2}(?:\.\d+)?)=(?P<limit>\d+(?:\.\d+)?)(?P<unit>ms|s)$"
)


@dataclass(frozen=True)
class Objective:
    """`<metric>-p<percentile>=<limit>`: that percentile of the metric at most `limit` seconds."""

    metric: str
    percentile: float
    limit: float

    @property
    def id(self) -> str:
        return f"slo.{self.metric}-p{self.percentile:g}"

    @property
    def statement(self) -> str:
        return f"p{self.percentile:g} of {METRICS[self.metric]} at most {self.limit:g}s"


@dataclass(frozen=True)
class Verdict:
    objective: Objective
    result: str
    """passed, failed, or skipped when nothing was measured."""
    why: str


def parse_slo(text: str) -> tuple[Objective, ...]:
    """`sync-p99=5s,status-p95=500ms` -> objectives; anything else is a ValueError."""
    objectives: list[Objective] = []
    for term in (part.strip() for part in text.split(",")):
        if not term:
            continue
        match = _TERM.match(term)
        if match is None or match["metric"] not in METRICS:
            raise ValueError(
                f"--syncer-slo: {term!r} is not <metric>-p<percentile>=<limit>s with metric "
                f"{' or '.join(METRICS)} (e.g. sync-p99=5s,status-p99=2s)"
            )
        pct = float(match["pct"])
        if not 0 < pct < 100:
            raise ValueError(f"--syncer-slo: the percentile of {term!r} must be in (0, 100)")
        limit = float(match["limit"]) / (1000 if match["unit"] == "ms" else 1)
        objectives.append(Objective(match["metric"], pct, limit))
    if not objectives:
        raise ValueError("--syncer-slo names no objective")
    return tuple(objectives)


def measured(stats: RunStats, metric: str) -> list[float]:
    if metric == "sync":
        return stats.all_latencies()
    return list(stats.status_latencies)


def evaluate(objectives: Sequence[Objective], stats: RunStats) -> list[Verdict]:
    """One verdict per objective, from the run's merged figures."""
    verdicts: list[Verdict] = []
    for objective in objectives:
        values = measured(stats, objective.metric)
        if not values:
            why = f"no {objective.metric} latency was measured in this run"
            verdicts.append(Verdict(objective, "skipped", why))
            continue
        seen = percentile(values, objective.percentile / 100)
        result = "passed" if seen <= objective.limit else "failed"
        why = (
            f"{objective.metric} p{objective.percentile:g} was {seen:.2f}s over {len(values)} "
            f"measurements; the objective is at most {objective.limit:g}s"
        )
        verdicts.append(Verdict(objective, result, why))
    return verdicts
