"""`pytest-syncer bench`'s pure parts: locust's statistics summed, the JSON object assembled
with each figure beside its comparison and the bars, the checkout found, the charts drawn."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from pytest_syncer.bench import BenchError
from pytest_syncer.bench import command as bench
from pytest_syncer.bench.command import find_source, last_json_line
from pytest_syncer.bench.figures import (
    assemble,
    percentile,
    summarize_locust,
    throughput_series,
)

# Benchmark outputs as the scripts printed them on this machine (targets 50).
RESULTS: dict[str, Any] = {
    "apiserver": {
        "apiserver": {"creates_per_s": 3144.0, "gets_per_s": 4043.0},
        "floor": {"creates_per_s": 2650.2, "gets_per_s": 3605.6},
    },
    "transform": {"transform": {"per_s": 12702}, "deepcopy": {"per_s": 8167}, "ratio": 1.56},
    "tunnel": {
        "tunnel": {"ops_per_s": 2262.0, "p50_ms": 26.26, "p99_ms": 78.8, "errors": 0},
        "direct": {"ops_per_s": 7779.6, "p50_ms": 7.81, "p99_ms": 19.76, "errors": 0},
        "ratio": 0.291,
    },
    "sync": {
        "sync": {"targets": 50, "p50_ms": 238.0, "p99_ms": 508.0},
        "direct": {"create_p50_ms": 3.5, "create_p99_ms": 20.9},
    },
    "status": {
        "50": {"converge_s": 0.03, "correct": True, "apiserver_single_status_write_ms": 1.98},
        "100": {"converge_s": 0.01, "correct": True, "apiserver_single_status_write_ms": 0.8},
    },
}


def entry(name: str, times: dict[str, int], per_second: dict[str, int], **extra: Any) -> dict:
    """One request name as `locust --json` prints it."""
    return {
        "name": name,
        "method": "GET",
        "num_requests": sum(times.values()),
        "num_failures": extra.get("failures", 0),
        "start_time": extra.get("start", 1000.0),
        "last_request_timestamp": extra.get("end", 1010.0),
        "response_times": times,
        "num_reqs_per_sec": per_second,
        "num_fail_per_sec": extra.get("fail_per_second", {}),
    }


def test_percentile_reads_locusts_histogram() -> None:
    histogram = {"10": 50, "20": 40, "300": 9, "1200": 1}
    assert percentile(histogram, 0.5) == 10
    assert percentile(histogram, 0.9) == 20
    assert percentile(histogram, 0.99) == 300
    assert percentile(histogram, 1.0) == 1200
    assert percentile({}, 0.5) == 0.0


def test_names_and_total_summed_over_the_run() -> None:
    entries = [
        entry("tunnel GET", {"10": 900, "30": 100}, {"1000": 500, "1010": 500}),
        entry(
            "tunnel POST",
            {"40": 10},
            {"1002": 10},
            failures=2,
            start=1002.0,
            end=1012.0,
            fail_per_second={"1003": 2},
        ),
    ]
    summary = summarize_locust(entries)
    assert summary["total"] == {
        "requests": 1010,
        "failures": 2,
        "ops_per_s": 84.2,  # 1010 requests from 1000.0 to 1012.0
        "p50_ms": 10.0,
        "p99_ms": 30.0,
    }
    assert summary["seconds"] == 12.0
    assert summary["names"]["tunnel POST"]["failures"] == 2
    assert summary["names"]["tunnel GET"]["ops_per_s"] == 83.3  # over the run's 12 s
    series = throughput_series(entries)
    assert series[0] == (0, 500, 0)
    assert series[2] == (2, 10, 0)
    assert series[3] == (3, 0, 2)
    assert series[-1] == (10, 500, 0)
    assert len(series) == 11


def test_each_figure_beside_its_comparison_and_the_bars() -> None:
    results = {
        **RESULTS,
        "locust": {
            "tunnel": summarize_locust(
                [entry("tunnel GET", {"20": 99, "90": 1}, {"1000": 100}, start=1000.0, end=1000.1)]
            ),
            "sync": summarize_locust(
                [
                    entry("sync create 50 targets", {"200": 9, "480": 1}, {"1000": 10}),
                    entry("sync direct create", {"3": 9, "12": 1}, {"1000": 10}),
                ]
            ),
            "status": summarize_locust(
                [entry("status flip to healthy (50 targets)", {"360": 4}, {"1000": 4})]
            ),
        },
    }
    result = assemble(
        results,
        targets=50,
        duration=10.0,
        machine={"cpus": 2},
        seconds={"tunnel": 31.52},
        errors={},
    )
    comparisons = result["comparisons"]
    assert comparisons["tunnel_vs_direct"] == {
        "tunnel_ops_per_s": 2262.0,
        "direct_ops_per_s": 7779.6,
        "ratio": 0.291,
    }
    assert comparisons["sync_vs_apiserver_create"]["p99_ratio"] == round(508.0 / 20.9, 3)
    assert comparisons["status_n_vs_2n"]["converge_s"] == [0.03, 0.01]
    assert comparisons["status_n_vs_2n"]["targets"] == [50, 100]
    assert comparisons["locust"]["tunnel_ops_per_s"] == 1000.0
    assert comparisons["locust"]["sync_create_p99_ms"] == 480.0
    assert comparisons["locust"]["apiserver_create_p50_ms"] == 3.0
    assert comparisons["locust"]["status_flip_to_healthy_p99_ms"] == 360.0
    assert comparisons["locust"]["status_flip_to_never_ready_p99_ms"] is None
    assert comparisons["transform_vs_deepcopy"]["ratio"] == 1.56
    bars = result["bars"]
    assert bars["sync_p99_ms"]["measured"] == 508.0
    assert bars["sync_p99_ms"]["meets_seed"] is True
    assert bars["sync_p99_ms"]["meets_must"] is True
    assert bars["status_targets"]["measured"] == 100
    assert bars["status_targets"]["meets_must"] is True
    assert bars["tunnel_ops_per_s"]["meets_seed"] is True
    assert bars["tunnel_ops_per_s"]["meets_must"] is True
    assert bars["tunnel_ops_per_s"]["locust_measured"] == 1000.0
    assert bars["tunnel_ops_per_s"]["seed"] == ">= 1000"
    assert result["seconds"] == {"tunnel": 31.5}
    assert result["results"]["sync"] is RESULTS["sync"]


def test_a_failed_step_leaves_its_figures_and_bars_unanswered() -> None:
    results = {key: value for key, value in RESULTS.items() if key not in {"tunnel", "status"}}
    result = assemble(
        results,
        targets=50,
        duration=10.0,
        machine={},
        seconds={},
        errors={"tunnel": "bench_tunnel.py exited with 1"},
    )
    assert result["comparisons"]["tunnel_vs_direct"]["ratio"] is None
    assert result["bars"]["tunnel_ops_per_s"]["meets_seed"] is None
    assert result["bars"]["status_targets"]["measured"] == 0
    assert result["bars"]["status_targets"]["meets_seed"] is False
    assert result["bars"]["sync_p99_ms"]["meets_must"] is True
    assert result["errors"] == {"tunnel": "bench_tunnel.py exited with 1"}


def test_the_last_stdout_line_is_the_result() -> None:
    assert last_json_line('progress\n{"a": 1}\n\n') == {"a": 1}
    with pytest.raises(bench.StepError, match="printed nothing"):
        last_json_line("\n")
    with pytest.raises(bench.StepError, match="not JSON"):
        last_json_line("done\n")


def test_the_checkout_is_found_or_named(tmp_path: Path) -> None:
    repository = Path(__file__).resolve().parents[2]
    assert find_source(repository) == repository
    with pytest.raises(BenchError, match="--source DIR"):
        find_source(tmp_path)


def test_bench_refuses_bad_arguments_before_running_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench.main(["--targets", "0"]) == 2
    assert "must be positive" in capsys.readouterr().err
    assert bench.main(["--source", str(tmp_path)]) == 2
    assert "no benchmarks/ and loadtests/" in capsys.readouterr().err


@pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is None, reason="the plot extra is not installed"
)
def test_charts_are_written_as_pngs(tmp_path: Path) -> None:
    from pytest_syncer.bench.charts import write_charts

    tunnel = [entry("tunnel GET", {"20": 99, "90": 1}, {"1000": 50, "1001": 60})]
    sync = [entry("sync create 50 targets", {"250": 9, "600": 1}, {"1000": 10})]
    result = assemble(
        {**RESULTS, "locust": {"tunnel": summarize_locust(tunnel)}},
        targets=50,
        duration=10.0,
        machine={},
        seconds={},
        errors={},
    )
    paths = write_charts(tmp_path / "charts", result, {"tunnel": tunnel, "sync": sync})
    assert [path.name for path in paths] == [
        "tunnel-throughput.png",
        "latency.png",
        "comparisons.png",
    ]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
