"""The figures of a `pytest-syncer bench` run: locust's statistics summed up, each figure beside
its in-run comparison, and the performance bars beside what was measured. Pure functions of the
steps' JSON, so the command and the charts share them without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

BARS: dict[str, dict[str, str]] = {
    "sync_p99_ms": {"seed": "< 5000 ms", "must": "< 1000 ms", "goal": "< 250 ms"},
    "status_targets": {"seed": "50+ targets", "must": "100 targets", "goal": "500 targets"},
    "tunnel_ops_per_s": {"seed": ">= 1000", "must": ">= 2000, 0 errors", "goal": ">= 5000"},
}
"""The project's performance bars (docs/architecture.md), printed beside the figures that
answer them."""


# Locust's JSON statistics (`locust --json`): one entry per request name.


def percentile(histogram: Mapping[str, int], fraction: float) -> float:
    """The `fraction` percentile of locust's response-time histogram {"<ms>": count}."""
    points = sorted((float(ms), count) for ms, count in histogram.items())
    total = sum(count for _, count in points)
    if total == 0:
        return 0.0
    wanted = fraction * total
    seen = 0
    for ms, count in points:
        seen += count
        if seen >= wanted:
            return ms
    return points[-1][0]


def _span(entries: Sequence[Mapping[str, Any]]) -> float:
    """Seconds from the first request of the run to its last."""
    used = [entry for entry in entries if entry["num_requests"]]
    if not used:
        return 0.0
    return float(
        max(entry["last_request_timestamp"] for entry in used)
        - min(entry["start_time"] for entry in used)
    )


def summarize_requests(entries: Iterable[Mapping[str, Any]], span: float) -> dict[str, Any]:
    """Requests, failures, ops/s over `span` seconds, and percentiles of some locust entries
    taken together."""
    entries = list(entries)
    histogram: dict[str, int] = {}
    for entry in entries:
        for ms, count in entry["response_times"].items():
            histogram[ms] = histogram.get(ms, 0) + count
    requests = sum(entry["num_requests"] for entry in entries)
    return {
        "requests": requests,
        "failures": sum(entry["num_failures"] for entry in entries),
        "ops_per_s": round(requests / span, 1) if span > 0 else 0.0,
        "p50_ms": percentile(histogram, 0.5),
        "p99_ms": percentile(histogram, 0.99),
    }


def summarize_locust(entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Each request name, and the whole run, from `locust --json`; rates over the whole run."""
    span = _span(entries)
    return {
        "seconds": round(span, 1),
        "total": summarize_requests(entries, span),
        "names": {entry["name"]: summarize_requests([entry], span) for entry in entries},
    }


def throughput_series(entries: Sequence[Mapping[str, Any]]) -> list[tuple[int, int, int]]:
    """(seconds since the first request, requests, failures) for each second of the run."""
    requests: dict[int, int] = {}
    failures: dict[int, int] = {}
    for entry in entries:
        for second, count in entry["num_reqs_per_sec"].items():
            requests[int(second)] = requests.get(int(second), 0) + count
        for second, count in entry["num_fail_per_sec"].items():
            failures[int(second)] = failures.get(int(second), 0) + count
    if not requests:
        return []
    first = min(requests)
    return [
        (second - first, requests.get(second, 0), failures.get(second, 0))
        for second in range(first, max(requests) + 1)
    ]


# The JSON object.


def _ratio(measured: float | None, comparison: float | None) -> float | None:
    if measured is None or not comparison:
        return None
    return round(measured / comparison, 3)


def _get(data: Mapping[str, Any], *path: str) -> Any:
    """`data[a][b]...`, or None where a step failed or lacks the figure."""
    value: Any = data
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def comparisons(results: Mapping[str, Any], targets: int) -> dict[str, Any]:
    """Each figure beside its in-run comparison."""
    tunnel_ops = _get(results, "tunnel", "tunnel", "ops_per_s")
    direct_ops = _get(results, "tunnel", "direct", "ops_per_s")
    sync_p50 = _get(results, "sync", "sync", "p50_ms")
    sync_p99 = _get(results, "sync", "sync", "p99_ms")
    create_p50 = _get(results, "sync", "direct", "create_p50_ms")
    create_p99 = _get(results, "sync", "direct", "create_p99_ms")
    status_n = _get(results, "status", str(targets), "converge_s")
    status_2n = _get(results, "status", str(2 * targets), "converge_s")
    locust_tunnel = _get(results, "locust", "tunnel", "total") or {}
    locust_sync = _get(results, "locust", "sync", "names", f"sync create {targets} targets") or {}
    locust_create = _get(results, "locust", "sync", "names", "sync direct create") or {}
    flips = _get(results, "locust", "status", "names") or {}
    to_healthy = flips.get(f"status flip to healthy ({targets} targets)", {})
    to_never_ready = flips.get(f"status flip to never-ready ({targets} targets)", {})
    return {
        "tunnel_vs_direct": {
            "tunnel_ops_per_s": tunnel_ops,
            "direct_ops_per_s": direct_ops,
            "ratio": _ratio(tunnel_ops, direct_ops),
        },
        "sync_vs_apiserver_create": {
            "targets": targets,
            "sync_p50_ms": sync_p50,
            "sync_p99_ms": sync_p99,
            "create_p50_ms": create_p50,
            "create_p99_ms": create_p99,
            "p99_ratio": _ratio(sync_p99, create_p99),
        },
        "status_n_vs_2n": {
            "targets": [targets, 2 * targets],
            "converge_s": [status_n, status_2n],
            "correct": [
                _get(results, "status", str(targets), "correct"),
                _get(results, "status", str(2 * targets), "correct"),
            ],
            "ratio": _ratio(status_2n, status_n),
            "apiserver_single_status_write_ms": _get(
                results, "status", str(targets), "apiserver_single_status_write_ms"
            ),
        },
        "apiserver_vs_floor": {
            "creates_per_s": [
                _get(results, "apiserver", "apiserver", "creates_per_s"),
                _get(results, "apiserver", "floor", "creates_per_s"),
            ],
            "gets_per_s": [
                _get(results, "apiserver", "apiserver", "gets_per_s"),
                _get(results, "apiserver", "floor", "gets_per_s"),
            ],
        },
        "transform_vs_deepcopy": {
            "transform_per_s": _get(results, "transform", "transform", "per_s"),
            "deepcopy_per_s": _get(results, "transform", "deepcopy", "per_s"),
            "ratio": _get(results, "transform", "ratio"),
        },
        "locust": {
            "targets": targets,
            "tunnel_ops_per_s": locust_tunnel.get("ops_per_s"),
            "tunnel_failures": locust_tunnel.get("failures"),
            "bench_tunnel_ops_per_s": tunnel_ops,
            "sync_create_p50_ms": locust_sync.get("p50_ms"),
            "sync_create_p99_ms": locust_sync.get("p99_ms"),
            "apiserver_create_p50_ms": locust_create.get("p50_ms"),
            "apiserver_create_p99_ms": locust_create.get("p99_ms"),
            "status_flip_to_healthy_p99_ms": to_healthy.get("p99_ms"),
            "status_flip_to_never_ready_p99_ms": to_never_ready.get("p99_ms"),
        },
    }


def bars(results: Mapping[str, Any], targets: int) -> dict[str, Any]:
    """The performance bars beside the figures measured; a bar a failed step left unanswered
    says None."""
    sync_p99 = _get(results, "sync", "sync", "p99_ms")
    tunnel_ops = _get(results, "tunnel", "tunnel", "ops_per_s")
    tunnel_errors = _get(results, "tunnel", "tunnel", "errors")
    correct = {
        size: _get(results, "status", str(size), "correct") for size in (targets, 2 * targets)
    }
    largest_correct = max((size for size, ok in correct.items() if ok), default=0)
    locust_tunnel = _get(results, "locust", "tunnel", "total") or {}

    def at_least(value: float | None, bar: float) -> bool | None:
        return None if value is None else value >= bar

    def below(value: float | None, bar: float) -> bool | None:
        return None if value is None else value < bar

    return {
        "sync_p99_ms": {
            **BARS["sync_p99_ms"],
            "measured": sync_p99,
            "targets": _get(results, "sync", "sync", "targets"),
            "meets_seed": below(sync_p99, 5000),
            "meets_must": below(sync_p99, 1000),
        },
        "status_targets": {
            **BARS["status_targets"],
            "measured": largest_correct,
            "converge_s": {
                str(size): _get(results, "status", str(size), "converge_s") for size in correct
            },
            "meets_seed": largest_correct >= 50,
            "meets_must": largest_correct >= 100,
        },
        "tunnel_ops_per_s": {
            **BARS["tunnel_ops_per_s"],
            "measured": tunnel_ops,
            "errors": tunnel_errors,
            "locust_measured": locust_tunnel.get("ops_per_s"),
            "locust_failures": locust_tunnel.get("failures"),
            "meets_seed": at_least(tunnel_ops, 1000),
            "meets_must": None if tunnel_ops is None else tunnel_ops >= 2000 and tunnel_errors == 0,
        },
    }


def assemble(
    results: Mapping[str, Any],
    *,
    targets: int,
    duration: float,
    machine: Mapping[str, Any],
    seconds: Mapping[str, float],
    errors: Mapping[str, str],
) -> dict[str, Any]:
    """The one JSON object `bench` prints."""
    return {
        "settings": {"targets": targets, "duration_s": duration},
        "machine": dict(machine),
        "results": dict(results),
        "comparisons": comparisons(results, targets),
        "bars": bars(results, targets),
        "seconds": {name: round(value, 1) for name, value in seconds.items()},
        "errors": dict(errors),
    }
