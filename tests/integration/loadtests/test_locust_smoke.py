"""The load tests never rot: `locust -f loadtests` runs each user class for a few seconds on a
small environment, locally, with the web UI and distributed over two workers, and every
request succeeds. No speed is asserted here (docs/benchmarks.md has the figures).

Locust runs as a subprocess: importing it here would let gevent patch pytest's process.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_syncer.harness.waiting import wait_until
from pytest_syncer.process.parent import ServiceProcess

REPOSITORY = Path(__file__).resolve().parents[3]
TARGETS = 2
RUN_SECONDS = 4
DEADLINE = 120.0
"""For a locust run to end: generous, other work shares this machine."""


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One `pytest-syncer up` for the module, as `--syncer-env DIR` names it."""
    directory = tmp_path_factory.mktemp("locust-env")
    up = ServiceProcess(
        "up",
        [f"--targets={TARGETS}", f"--dir={directory / 'env'}"],
        log_path=directory / "up.log",
        startup_timeout=DEADLINE,
    )
    up.start()
    try:
        yield directory / "env"
    finally:
        up.stop(grace=60)


def locust(*args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", "loadtests", *args]


def run_headless(*args: str) -> tuple[list[dict[str, Any]], str]:
    """One headless run; locust's `--json` statistics and its log, after it exited 0 (no
    failure)."""
    done = subprocess.run(
        locust("--headless", "--json", "--only-summary", *args),
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert done.returncode == 0, f"locust exited with {done.returncode}:\n{done.stderr[-3000:]}"
    entries: list[dict[str, Any]] = json.loads(done.stdout)
    return entries, done.stderr


def requests_by_name(entries: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    return {entry["name"]: (entry["num_requests"], entry["num_failures"]) for entry in entries}


def assert_requests_without_failures(entries: list[dict[str, Any]], *prefixes: str) -> None:
    seen = requests_by_name(entries)
    assert {name: failures for name, (_, failures) in seen.items() if failures} == {}, seen
    for prefix in prefixes:
        assert any(name.startswith(prefix) and count for name, (count, _) in seen.items()), (
            f"no request named {prefix}... in {seen}"
        )


def processes_mentioning(text: str) -> list[str]:
    """Command lines of running processes that name `text` (a directory)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(f"{entry.name}: {cmdline[:200]}")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.parametrize(
    ("user_class", "users", "seconds", "prefixes"),
    [
        ("TunnelUser", 4, RUN_SECONDS, ["tunnel GET", "tunnel POST"]),
        ("SyncLatencyUser", 2, RUN_SECONDS, [f"sync create {TARGETS} targets", "sync direct"]),
        # Room for the initial aggregate and a flip on a loaded machine.
        ("StatusChurnUser", 1, 2 * RUN_SECONDS, [f"status initial ({TARGETS} ", "status flip"]),
    ],
)
def test_each_user_class_runs_green(
    environment: Path, user_class: str, users: int, seconds: int, prefixes: list[str]
) -> None:
    entries, log = run_headless(
        f"--syncer-env={environment}",
        f"--users={users}",
        f"--spawn-rate={users}",
        f"--run-time={seconds}s",
        user_class,
    )
    assert_requests_without_failures(entries, *prefixes)
    if user_class != "SyncLatencyUser":
        assert f"{CPU_LINE}: no `sync create` succeeded; CPU over the test (ms): " in log, log
        return
    cycles = requests_by_name(entries)[f"sync create {TARGETS} targets"][0]
    processes = json.loads((environment / "environment.json").read_text())["processes"]
    assert_cpu_per_cycle_line(log, cycles, set(processes))


CPU_LINE = "sync environment CPU per placed cycle"
CPU_FIGURES = re.compile(
    rf"{CPU_LINE} \(ms\): (?P<each>.+), total (?P<total>[\d.]+) over (?P<cycles>\d+) cycles "
    r"in (?P<seconds>[\d.]+) s; environment (?P<share>\d+)% of (?P<cpus>\d+) CPUs, "
    r"machine busy (?P<busy>\d+)%; reference work (?P<reference>\d+) ms "
    r"\(median of (?P<samples>\d+), (?P<low>\d+) to (?P<high>\d+)\)$",
    re.MULTILINE,
)


def assert_cpu_per_cycle_line(log: str, cycles: int, processes: set[str]) -> None:
    """The line names every process of environment.json, with figures that add up: as many
    cycles as locust counted creates, no more CPU than the CPUs had in the test's time; the
    reference work of the same run ends it."""
    found = CPU_FIGURES.search(log)
    assert found is not None, log
    each = {
        name: float(ms) for name, ms in (part.rsplit(" ", 1) for part in found["each"].split(", "))
    }
    assert set(each) == processes, found[0]
    assert int(found["cycles"]) == cycles > 0, found[0]
    total, seconds, cpus = float(found["total"]), float(found["seconds"]), int(found["cpus"])
    assert min(each.values()) >= 0, found[0]
    assert each["apiserver"] > 0, "the upstream API server took every write"
    assert abs(sum(each.values()) - total) <= 0.1 * len(each), found[0]
    assert 0 < total * cycles <= seconds * cpus * 1000, found[0]
    assert 0 < int(found["share"]) <= 100, found[0]
    assert int(found["share"]) <= int(found["busy"]) + 1 <= 101, found[0]
    low, median, high = int(found["low"]), int(found["reference"]), int(found["high"])
    assert 0 < low <= median <= high, "the machine's speed, sampled through the same run"
    assert int(found["samples"]) >= 1, found[0]


def test_two_workers_on_loopback_share_the_masters_environment(environment: Path) -> None:
    """The workers are not told the environment: it comes with the master's spawn message."""
    port = free_port()
    master = subprocess.Popen(
        locust(
            "--master",
            "--master-bind-host=127.0.0.1",
            f"--master-bind-port={port}",
            "--expect-workers=2",
            "--expect-workers-max-wait=60",
            f"--syncer-env={environment}",
            "--headless",
            "--json",
            "--only-summary",
            "--users=4",
            "--spawn-rate=4",
            f"--run-time={RUN_SECONDS}s",
            "TunnelUser",
        ),
        cwd=REPOSITORY,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    workers = [
        subprocess.Popen(
            locust("--worker", "--master-host=127.0.0.1", f"--master-port={port}"),
            cwd=REPOSITORY,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        stdout, stderr = master.communicate(timeout=DEADLINE)
        assert master.returncode == 0, f"the master exited with {master.returncode}:\n{stderr}"
        assert_requests_without_failures(json.loads(stdout), "tunnel GET")
        # The master measures the environment's CPU, after its workers' last statistics.
        assert f"{CPU_LINE}: no `sync create` succeeded; CPU over the test (ms): " in stderr
        for worker in workers:
            _, worker_log = worker.communicate(timeout=DEADLINE)
            assert worker.returncode == 0, f"a worker exited {worker.returncode}:\n{worker_log}"
    finally:
        for process in [master, *workers]:
            if process.poll() is None:
                process.kill()
                process.communicate()


def test_web_ui_starts_and_stops_a_swarm(environment: Path) -> None:
    port = free_port()
    web = subprocess.Popen(
        locust(
            "--web-host=127.0.0.1",
            f"--web-port={port}",
            f"--syncer-env={environment}",
            "TunnelUser",
        ),
        cwd=REPOSITORY,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: urllib.request.urlopen(base, timeout=5).status,
            lambda status: status == 200,
            what="locust's web UI to answer",
            timeout=60,
        )
        form = b"user_count=2&spawn_rate=2"
        started = urllib.request.urlopen(f"{base}/swarm", data=form, timeout=10)
        assert json.loads(started.read())["success"] is True

        def stats() -> dict[str, Any]:
            with urllib.request.urlopen(f"{base}/stats/requests", timeout=10) as answer:
                result: dict[str, Any] = json.loads(answer.read())
                return result

        seen = wait_until(
            stats,
            lambda now: any(
                row["name"] == "tunnel GET" and row["num_requests"] for row in now["stats"]
            ),
            what="tunnel GETs in the web UI's statistics",
            timeout=60,
        )
        assert seen["fail_ratio"] == 0, seen["errors"]
        urllib.request.urlopen(f"{base}/stop", data=b"", timeout=10).read()
        web.send_signal(signal.SIGINT)
        _, log = web.communicate(timeout=DEADLINE)
        assert web.returncode == 0, log
    finally:
        if web.poll() is None:
            web.kill()
            web.communicate()


def test_a_run_starts_its_own_environment_and_ctrl_c_stops_every_process(
    tmp_path: Path,
) -> None:
    """No `--syncer-env`: the init listener starts one; SIGINT (Ctrl-C) mid-run stops it."""
    prefix = tmp_path / "stats"
    process = subprocess.Popen(
        locust(
            "--headless",
            "--only-summary",
            f"--syncer-targets={TARGETS}",
            "--users=2",
            "--spawn-rate=2",
            "--run-time=120s",
            f"--csv={prefix}",
            "TunnelUser",
        ),
        cwd=REPOSITORY,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    assert process.stderr is not None
    reader = threading.Thread(target=lambda: lines.extend(process.stderr or []), daemon=True)
    reader.start()
    try:

        def aggregated() -> dict[str, str]:
            with open(f"{prefix}_stats.csv", newline="") as table:
                return next(row for row in csv.DictReader(table) if row["Name"] == "Aggregated")

        wait_until(
            aggregated,
            lambda row: int(row["Request Count"]) > 0,
            what="requests in locust's statistics",
            timeout=DEADLINE,
        )
        started = [line for line in lines if "with `pytest-syncer up` (log: " in line]
        assert started, "".join(lines)
        directory = started[0].split("(log: ", 1)[1].rsplit("/up.log", 1)[0]
        assert processes_mentioning(directory), "the environment is not running"
        process.send_signal(signal.SIGINT)
        process.wait(DEADLINE)
        reader.join(10)
        log = "".join(lines)
        assert process.returncode == 0, log
        final = aggregated()
        assert int(final["Request Count"]) > 0, final
        assert final["Failure Count"] == "0", log
        assert processes_mentioning(directory) == [], log
        assert not os.path.exists(directory), f"{directory} is left behind"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
