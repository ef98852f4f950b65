"""`faults` heals before `workload` cleans up, whatever order a test names them in: the
clean-up waits on every syncer, so it must not run while one is frozen or dead."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

CONFTEST = """
import signal
from pathlib import Path
from types import SimpleNamespace

import pytest

from pytest_syncer.harness.config import HarnessConfig
from pytest_syncer.harness.run_stats import RunStats

ORDER = Path(__file__).parent / "order.txt"


def note(what):
    with ORDER.open("a") as order:
        order.write(what + "\\n")


class Process:
    def signal(self, signum):
        note("heal" if signum == signal.SIGCONT else "freeze")


@pytest.fixture
def syncer_env():
    process = Process()
    return SimpleNamespace(
        shared=False,
        config=HarnessConfig(targets=2),
        stats=RunStats(),
        network=None,
        targets={"target-000": None, "target-001": None},
        syncers=SimpleNamespace(isolate=lambda target: process, process_of=lambda target: process),
        upstream=SimpleNamespace(delete=lambda *args: note("workload clean-up")),
    )
"""

TESTS = """
def test_faults_named_first(faults, workload):
    faults.freeze("target-000")
    assert False, "the fault test fails"


def test_workload_named_first(workload, faults):
    faults.freeze("target-001")
"""


def test_heal_runs_before_the_workloads_clean_up(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(TESTS)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function"
    )
    result.assert_outcomes(passed=1, failed=1)
    assert (pytester.path / "order.txt").read_text().splitlines() == [
        "freeze",
        "heal",
        "workload clean-up",
    ] * 2
