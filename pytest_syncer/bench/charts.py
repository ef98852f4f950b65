"""PNG charts of a `pytest-syncer bench` run, with matplotlib (the optional `plot` extra).

Three charts: locust's tunnel throughput over time beside bench_tunnel's figures and the bars;
the latency distribution of every locust request name; and each figure beside its comparison.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_syncer.bench import BenchError
from pytest_syncer.bench.figures import throughput_series

DPI = 80


def require_matplotlib() -> None:
    """Fail before any benchmark runs, not after."""
    if importlib.util.find_spec("matplotlib") is None:
        raise BenchError(
            "--plot needs matplotlib: pip install 'pytest-syncer[plot]' (or matplotlib)"
        )


def write_charts(
    directory: Path, result: Mapping[str, Any], locust: Mapping[str, Sequence[Mapping[str, Any]]]
) -> list[Path]:
    """Write the charts the run has data for; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    if locust.get("tunnel"):
        written.append(_throughput(directory / "tunnel-throughput.png", result, locust["tunnel"]))
    entries = [entry for run in locust.values() for entry in run if entry["num_requests"]]
    if entries:
        written.append(_latency(directory / "latency.png", entries))
    written.append(_comparisons(directory / "comparisons.png", result))
    return written


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _throughput(path: Path, result: Mapping[str, Any], entries: Sequence[Any]) -> Path:
    series = throughput_series(entries)
    figure = _figure(9, 3.5)
    axes = figure.subplots()
    seconds = [point[0] for point in series]
    axes.plot(seconds, [point[1] for point in series], label="locust TunnelUser requests/s")
    axes.plot(seconds, [point[2] for point in series], label="failures/s", color="tab:red")
    comparison = result["comparisons"]["tunnel_vs_direct"]
    lines = [
        (comparison["tunnel_ops_per_s"], "bench_tunnel: tunneled", "tab:green", "--"),
        (comparison["direct_ops_per_s"], "bench_tunnel: direct", "tab:gray", "--"),
        (1000, "seed bar 1000/s", "black", ":"),
        (2000, "DESIGN bar 2000/s", "tab:purple", ":"),
    ]
    for value, label, color, style in lines:
        if value is not None:
            axes.axhline(value, label=label, color=color, linestyle=style, linewidth=1)
    axes.set_xlabel("seconds into the locust run")
    axes.set_ylabel("operations per second")
    axes.set_title("Tunnel throughput")
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    figure.savefig(path, dpi=DPI)
    return path


def _latency(path: Path, entries: Sequence[Mapping[str, Any]]) -> Path:
    """One cumulative distribution per request name, from locust's response-time histogram."""
    figure = _figure(9, 4)
    axes = figure.subplots()
    for entry in sorted(entries, key=lambda entry: str(entry["name"])):
        points = sorted((float(ms), count) for ms, count in entry["response_times"].items())
        total = sum(count for _, count in points)
        cumulative, seen = [], 0
        for _, count in points:
            seen += count
            cumulative.append(seen / total)
        axes.step([ms for ms, _ in points], cumulative, where="post", label=entry["name"])
    axes.set_xscale("log")
    axes.set_xlabel("response time, ms (log)")
    axes.set_ylabel("fraction of requests")
    axes.set_title("Latency distributions (locust)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1))
    figure.savefig(path, dpi=DPI)
    return path


def _comparisons(path: Path, result: Mapping[str, Any]) -> Path:
    """Each figure beside its in-run comparison; a bar a failed step left out is absent."""
    comparisons = result["comparisons"]
    tunnel = comparisons["tunnel_vs_direct"]
    sync = comparisons["sync_vs_apiserver_create"]
    status = comparisons["status_n_vs_2n"]
    panels = [
        (
            "Tunnel GETs/s (bench_tunnel)",
            ["tunneled", "direct"],
            [tunnel["tunnel_ops_per_s"], tunnel["direct_ops_per_s"]],
            "ops/s",
        ),
        (
            f"Sync latency, {sync['targets']} targets",
            ["sync\np50", "sync\np99", "create\np50", "create\np99"],
            [
                sync["sync_p50_ms"],
                sync["sync_p99_ms"],
                sync["create_p50_ms"],
                sync["create_p99_ms"],
            ],
            "ms",
        ),
        (
            "Status aggregation",
            [f"{size} targets" for size in status["targets"]],
            status["converge_s"],
            "seconds to converge",
        ),
    ]
    figure = _figure(10, 3.5)
    for axes, (title, labels, values, unit) in zip(
        figure.subplots(1, len(panels)), panels, strict=True
    ):
        shown = [(label, value) for label, value in zip(labels, values, strict=True) if value]
        bars = axes.bar([label for label, _ in shown], [value for _, value in shown])
        axes.bar_label(bars, fmt="%g", fontsize="x-small")
        axes.set_title(title, fontsize="medium")
        axes.set_ylabel(unit)
        axes.tick_params(axis="x", labelsize="small")
    figure.savefig(path, dpi=DPI)
    return path
