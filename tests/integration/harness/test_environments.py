"""The harness through pytest itself: environments per size, shared; readable timeouts; every
process stopped after a pass, a failure and Ctrl-C."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.integration.harness.processes import embedded_processes

SIZED = """
import json
import os

import pytest

from pytest_syncer.harness.environment import SyncerEnvironment

pytestmark = pytest.mark.syncer_e2e
SEEN = {}


def record(env: SyncerEnvironment) -> None:
    with open(os.environ["PIDS_FILE"], "a") as out:
        out.write(json.dumps(env.pids()) + "\\n")


@pytest.mark.syncer_targets(2)
def test_two(syncer_env):
    SEEN.setdefault(2, id(syncer_env))
    assert syncer_env.size == 2
    record(syncer_env)


@pytest.mark.syncer_targets(2)
def test_two_again(syncer_env):
    assert SEEN[2] == id(syncer_env)


@pytest.mark.syncer_targets(3)
def test_three(syncer_env, sync_targets):
    assert syncer_env.size == 3
    assert [t.name for t in sync_targets] == ["target-000", "target-001", "target-002"]
    record(syncer_env)


@pytest.mark.syncer_targets(2)
def test_a_wait_that_times_out(workload):
    settings = workload(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}},
    )
    settings.expected = {"data": {"k": "never"}}
    settings.wait_synced()
"""

INTERRUPTED = """
import json
import os

import pytest

pytestmark = pytest.mark.syncer_e2e


@pytest.mark.syncer_targets(1)
def test_interrupted(syncer_env):
    with open(os.environ["PIDS_FILE"], "a") as out:
        out.write(json.dumps(syncer_env.pids()) + "\\n")
    raise KeyboardInterrupt
"""


def recorded_pids(path: Path) -> list[int]:
    return [pid for line in path.read_text().splitlines() for pid in json.loads(line)]


def assert_all_gone(pids: list[int]) -> None:
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        alive.append(pid)
    assert alive == []


def test_sizes_shared_timeouts_readable_processes_stopped(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pids_file = tmp_path / "pids"
    monkeypatch.setenv("PIDS_FILE", str(pids_file))
    pytester.makepyfile(SIZED)
    result = pytester.runpytest_subprocess("--syncer-e2e", "--syncer-timeout=3")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*timed out after 3s waiting for ConfigMap t*/c on 2 targets synced to 2 targets*",
            "*2 of 2 targets differ:",
            "*target-000:",
            "*- data.k: expected 'never', had 'v'",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*- syncer -*",
            "2-target environment (embedded, 1 syncer processes) up in *s; logs in *embedded-2",
            "3-target environment (embedded, 1 syncer processes) up in *s; logs in *embedded-3",
        ]
    )
    pids = recorded_pids(pids_file)
    assert len(pids) >= 2 * 4  # API server, simulator, hub, a syncer pool: per size
    assert_all_gone(pids)


def test_ctrl_c_stops_every_process(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pids_file = tmp_path / "pids"
    monkeypatch.setenv("PIDS_FILE", str(pids_file))
    pytester.makepyfile(INTERRUPTED)
    result = pytester.runpytest_subprocess("--syncer-e2e")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    pids = recorded_pids(pids_file)
    assert len(pids) == embedded_processes(1)
    assert_all_gone(pids)
