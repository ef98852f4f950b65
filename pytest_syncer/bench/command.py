"""`pytest-syncer bench`: every benchmark and locust in one run, one JSON object with each figure
beside its comparison from the same run, and the performance bars beside what was measured.

The `benchmarks/` scripts and the `loadtests/` locustfiles are the repository's measuring tools,
not part of the installed package, so `bench` runs them from a checkout: `--source DIR`, else the
current directory or the checkout this package is installed from (an editable install),
whichever holds both. Each runs as a subprocess in this process group, so Ctrl-C reaches every
one of them and each stops its own servers; progress goes to stderr, the JSON to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pytest_syncer.bench import BenchError
from pytest_syncer.bench.figures import assemble, summarize_locust
from pytest_syncer.process.parent import ServiceProcess, ServiceStartError

DEFAULT_TARGETS = 50
DEFAULT_DURATION = 10.0
LOCUST_TUNNEL_USERS = 50
LOCUST_SYNC_USERS = 1
"""One writer at a time: the latency an unloaded environment gives (five saturate the API
server at 50 targets; docs/benchmarks.md)."""
STEP_GRACE = 60.0
"""How long a step may run past its expected length before it is interrupted."""
ENVIRONMENT_STARTUP = 600.0


def _say(message: str) -> None:
    print(f"pytest-syncer bench: {message}", file=sys.stderr, flush=True)


def find_source(given: Path | None) -> Path:
    """The checkout that holds `benchmarks/` and `loadtests/`."""
    candidates = [given] if given is not None else [Path.cwd(), Path(__file__).parents[2]]
    for candidate in candidates:
        if (candidate / "benchmarks").is_dir() and (candidate / "loadtests").is_dir():
            return candidate.resolve()
    looked = ", ".join(str(candidate) for candidate in candidates)
    raise BenchError(
        f"no benchmarks/ and loadtests/ in {looked}: run `pytest-syncer bench` from a "
        "checkout of pytest-syncer, or name one with --source DIR"
    )


# Running the steps.


class StepError(RuntimeError):
    """A benchmark failed, printed no JSON, or ran past its time; the run goes on without it."""


@dataclass
class Run:
    """What the steps of one `bench` gave: results by name, the time each took, what failed,
    and locust's raw statistics (for the charts)."""

    results: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    locust_entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def step(self, name: str, work: Callable[..., Any], *args: Any) -> Any:
        """Run `work(*args)` as one step; record its result or its error and how long it
        took."""
        started = time.monotonic()
        _say(f"{name}: starting")
        try:
            result = work(*args)
        except (StepError, ServiceStartError, ValueError) as error:
            self.errors[name] = str(error)
            _say(f"{name}: failed: {error}")
            result = None
        finally:
            self.seconds[name] = time.monotonic() - started
        if result is not None:
            _say(f"{name}: done in {self.seconds[name]:.0f}s")
        return result


def last_json_line(stdout: str) -> Any:
    """The JSON object a benchmark prints as its last stdout line."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        raise StepError("printed nothing on stdout")
    try:
        return json.loads(lines[-1])
    except ValueError as error:
        raise StepError(f"its last stdout line is not JSON: {error}") from None


def run_command(argv: Sequence[str], *, cwd: Path, timeout: float) -> tuple[int, str]:
    """Run a step's command with stderr passed through; its stdout and exit code.

    Past `timeout` it gets SIGINT (Python and locust stop their servers on it), then SIGKILL.
    On Ctrl-C the child, in this process group, has the SIGINT too: wait for it to stop."""
    process = subprocess.Popen(
        list(argv), cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True
    )
    try:
        stdout, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=STEP_GRACE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
        raise StepError(f"still running after {timeout:.0f}s: interrupted") from None
    except KeyboardInterrupt:
        try:
            process.wait(STEP_GRACE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        raise
    return process.returncode, stdout


def run_benchmark(source: Path, name: str, args: Sequence[str], expected: float) -> dict[str, Any]:
    argv = [sys.executable, str(source / "benchmarks" / f"bench_{name}.py"), *args]
    _say(" ".join(["python", f"benchmarks/bench_{name}.py", *args]))
    code, stdout = run_command(argv, cwd=source, timeout=expected + STEP_GRACE)
    if code != 0:
        raise StepError(f"bench_{name}.py exited with {code}")
    result: dict[str, Any] = last_json_line(stdout)
    return result


def run_locust(
    source: Path,
    environment: Path,
    users: int,
    classes: Sequence[str],
    duration: float,
) -> list[dict[str, Any]]:
    """One headless locust run on the environment; its `--json` statistics."""
    args = [
        "-f",
        "loadtests",
        f"--syncer-env={environment}",
        "--headless",
        f"--users={users}",
        f"--spawn-rate={users}",
        f"--run-time={duration:g}s",
        "--json",
        "--only-summary",
        "--loglevel=WARNING",
        *classes,
    ]
    _say(" ".join(["locust", *args]))
    argv = [sys.executable, "-m", "locust", *args]
    code, stdout = run_command(argv, cwd=source, timeout=duration + STEP_GRACE)
    try:
        entries: list[dict[str, Any]] = json.loads(stdout)
    except ValueError:
        raise StepError(f"locust exited with {code} and printed no statistics") from None
    if code not in (0, 1):  # 1: some requests failed, which the figures show
        raise StepError(f"locust exited with {code}")
    return entries


def machine_facts() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "load_average_start": [round(value, 2) for value in os.getloadavg()],
    }


def run_all(source: Path, targets: int, duration: float, workdir: Path) -> Run:
    """Every benchmark, then locust on an environment of `targets` targets."""
    run = Run()
    half = max(1.0, duration / 2)
    benchmarks: list[tuple[str, str, list[str], float]] = [
        # (result key, script, arguments, expected seconds)
        ("apiserver", "apiserver", [f"--duration={half:g}"], 6 * half + 30),
        ("transform", "transform", [f"--targets={targets}", f"--duration={half:g}"], half + 15),
        ("tunnel", "tunnel", [f"--duration={duration:g}"], 2 * duration + 30),
        ("sync", "sync", [f"--targets={targets}", f"--duration={duration:g}"], duration + 120),
        (
            "throughput",
            "throughput",
            [f"--targets={targets}", f"--step={half:g}"],
            14 * half + 120,
        ),
    ]
    for key, script, args, expected in benchmarks:
        result = run.step(key, run_benchmark, source, script, args, expected)
        if result is not None:
            run.results[key] = result
    status: dict[str, Any] = {}
    for size in (targets, 2 * targets):
        result = run.step(
            f"status {size}", run_benchmark, source, "status", [f"--targets={size}"], 120 + size
        )
        if result is not None:
            status[str(size)] = {**result["sizes"][str(size)], **result["comparison"]}
    run.results["status"] = status
    up = ServiceProcess(
        "up",
        [f"--targets={targets}", f"--dir={workdir / 'environment'}"],
        log_path=workdir / "up.log",
        startup_timeout=ENVIRONMENT_STARTUP,
    )
    if run.step(f"locust environment ({targets} targets)", up.start) is None:
        return run
    try:
        locust_runs = [
            ("tunnel", LOCUST_TUNNEL_USERS, ["TunnelUser"]),
            ("sync", LOCUST_SYNC_USERS, ["SyncLatencyUser"]),
            ("status", 1, ["StatusChurnUser"]),
        ]
        summaries: dict[str, Any] = {}
        for key, users, classes in locust_runs:
            entries = run.step(
                f"locust {key}",
                run_locust,
                source,
                workdir / "environment",
                users,
                classes,
                duration,
            )
            if entries is not None:
                run.locust_entries[key] = entries
                summaries[key] = summarize_locust(entries)
        run.results["locust"] = summaries
    finally:
        up.stop(grace=120)
    return run


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytest-syncer bench",
        description="Run benchmarks/bench_*.py and locust (loadtests/) headless; print one JSON "
        "object with every figure beside its in-run comparison and the performance bars. Progress "
        "goes to stderr.",
    )
    parser.add_argument(
        "--targets",
        type=int,
        default=DEFAULT_TARGETS,
        help=f"sync targets N (status also at 2N; default {DEFAULT_TARGETS})",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=DEFAULT_DURATION,
        help="seconds each measured phase runs (default %(default)g)",
    )
    parser.add_argument("--json", type=Path, help="also write the JSON object here")
    parser.add_argument(
        "--plot", type=Path, metavar="DIR", help="write PNG charts here (the `plot` extra)"
    )
    parser.add_argument(
        "--source", type=Path, metavar="DIR", help="the checkout with benchmarks/ and loadtests/"
    )
    return parser


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    if args.targets < 1 or args.duration <= 0:
        print("pytest-syncer bench: --targets and --duration must be positive", file=sys.stderr)
        return 2
    try:
        source = find_source(args.source)
        if args.plot is not None:
            from pytest_syncer.bench.charts import require_matplotlib

            require_matplotlib()
    except BenchError as error:
        print(f"pytest-syncer bench: {error}", file=sys.stderr)
        return 2
    machine = machine_facts()
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="pytest-syncer-bench-") as scratch:
            run = run_all(source, args.targets, args.duration, Path(scratch))
    except KeyboardInterrupt:
        _say("interrupted; every step has stopped its processes")
        return 130
    machine["load_average_end"] = [round(value, 2) for value in os.getloadavg()]
    run.seconds["total"] = time.monotonic() - started
    result = assemble(
        run.results,
        targets=args.targets,
        duration=args.duration,
        machine=machine,
        seconds=run.seconds,
        errors=run.errors,
    )
    text = json.dumps(result, sort_keys=True)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    if args.plot is not None:
        from pytest_syncer.bench.charts import write_charts

        for path in write_charts(args.plot, result, run.locust_entries):
            _say(f"wrote {path}")
    _say(f"done in {run.seconds['total']:.0f}s, {len(run.errors)} step(s) failed")
    print(text, flush=True)
    return 1 if run.errors else 0
