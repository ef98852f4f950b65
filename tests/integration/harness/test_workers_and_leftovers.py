"""The harness under pytest-xdist (an environment per worker, no clash, one summary), and a
killed run's processes and directories removed by the next run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pytest_syncer.process.proc import pid_alive
from tests.integration.harness.processes import embedded_processes

SYNCS = """
import json
import os

import pytest

from pytest_syncer.harness.environment_file import EnvironmentFacts

pytestmark = [pytest.mark.syncer_e2e, pytest.mark.syncer_targets(2)]


def test_syncs_on_the_workers_environment(syncer_env, workload):
    settings = workload({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": "settings"}, "data": {"k": "v"}})
    settings.wait_converged()
    # An attached (shared) environment holds no process: its environment.json names them.
    pids = syncer_env.pids() or EnvironmentFacts.read(syncer_env.workdir).process_groups
    with open(os.environ["SEEN_FILE"], "a") as out:
        out.write(json.dumps({"worker": os.environ["PYTEST_XDIST_WORKER"],
                              "workdir": str(syncer_env.workdir), "hub": syncer_env.hub_url,
                              "pids": pids}) + "\\n")
"""


def test_two_workers_each_build_their_own_environment(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen_file = tmp_path / "seen"
    monkeypatch.setenv("SEEN_FILE", str(seen_file))
    monkeypatch.setenv("PYTEST_SYNCER_RUNS", str(tmp_path / "runs"))
    pytester.makepyfile(SYNCS)
    result = pytester.runpytest_subprocess("--syncer-e2e", "-p", "xdist", "-n", "2", "--dist=each")
    result.assert_outcomes(passed=2)
    seen = [json.loads(line) for line in seen_file.read_text().splitlines()]
    assert sorted(entry["worker"] for entry in seen) == ["gw0", "gw1"]
    assert seen[0]["workdir"] != seen[1]["workdir"]
    assert seen[0]["hub"] != seen[1]["hub"]
    for entry in seen:
        assert f"popen-{entry['worker']}" in entry["workdir"]
    result.stdout.fnmatch_lines_random(
        [
            "[[]gw0] 2-target environment (embedded, 1 syncer processes) up in *",
            "[[]gw1] 2-target environment (embedded, 1 syncer processes) up in *",
            "sync latency: p50 *s over 4 copies on 2 targets*",
        ]
    )
    assert not any(pid_alive(pid) for entry in seen for pid in entry["pids"])


SHARED = (
    SYNCS
    + """

def test_faults_skip_on_a_shared_environment(faults):
    pass
"""
)


def test_two_workers_share_one_environment_when_asked(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen_file = tmp_path / "seen"
    monkeypatch.setenv("SEEN_FILE", str(seen_file))
    monkeypatch.setenv("PYTEST_SYNCER_RUNS", str(tmp_path / "runs"))
    pytester.makepyfile(SHARED)
    result = pytester.runpytest_subprocess(
        "--syncer-e2e", "-p", "xdist", "-n", "2", "--dist=each", "--syncer-xdist=shared", "-rs"
    )
    result.assert_outcomes(passed=2, skipped=2)
    result.stdout.fnmatch_lines(["*faults stop processes every pytest-xdist worker shares*"])
    seen = [json.loads(line) for line in seen_file.read_text().splitlines()]
    assert sorted(entry["worker"] for entry in seen) == ["gw0", "gw1"]
    assert seen[0]["workdir"] == seen[1]["workdir"]
    assert seen[0]["hub"] == seen[1]["hub"]
    result.stdout.fnmatch_lines_random(
        [
            "[[]gw*] 2-target environment (embedded, shared by the workers) up in *",
            "[[]gw*] 2-target environment: attached to the shared *",
        ]
    )
    pids = seen[0]["pids"]
    assert len(pids) == embedded_processes(2)
    assert not any(pid_alive(pid) for pid in pids)  # the controller stopped it at the end
    assert list((tmp_path / "runs" / "owners").iterdir()) == []


KILLED = """
import json
import os
import signal

import pytest


@pytest.mark.syncer_e2e
@pytest.mark.syncer_targets(2)
def test_killed(syncer_env):
    with open(os.environ["SEEN_FILE"], "w") as out:
        json.dump({"workdir": str(syncer_env.workdir), "pids": syncer_env.pids()}, out)
    os.kill(os.getpid(), signal.SIGKILL)
"""

LATER = """
def test_next_run():
    pass
"""


def test_the_next_run_removes_what_a_killed_run_left(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen_file = tmp_path / "seen"
    monkeypatch.setenv("SEEN_FILE", str(seen_file))
    monkeypatch.setenv("PYTEST_SYNCER_RUNS", str(tmp_path / "runs"))
    pytester.makepyfile(test_killed=KILLED)
    killed = pytester.runpytest_subprocess("--syncer-e2e")
    seen = json.loads(seen_file.read_text())
    pids: list[int] = seen["pids"]
    workdir = Path(seen["workdir"])
    try:
        assert killed.ret == -9
        assert len(pids) == embedded_processes(2)
        assert all(pid_alive(pid) for pid in pids)  # the kill left them running
        assert workdir.is_dir()
        pytester.makepyfile(test_later=LATER)
        later = pytester.runpytest_subprocess("test_later.py")
        later.assert_outcomes(passed=1)
        later.stdout.fnmatch_lines(
            [
                "syncer: removed a crashed run (pytest pid * gone): "
                f"killed {embedded_processes(2)} processes *, "
                f"removed {workdir}",
            ]
        )
        assert not any(pid_alive(pid) for pid in pids)
        assert not workdir.exists()
        assert list((tmp_path / "runs" / "owners").iterdir()) == []
    finally:
        for pid in pids:
            if pid_alive(pid):
                os.killpg(pid, 9)
