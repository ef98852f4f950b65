"""The harness for people, through pytest itself: the summary's figures, a failing test's
artifacts (logs, objects, JUnit properties, no secret), the status grid of an aggregation
that never came, and an environment kept after a failure until `pytest-syncer down`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_syncer.harness.environment_file import EnvironmentFacts
from pytest_syncer.process.proc import pid_alive
from tests.integration.harness.processes import embedded_processes

RUN = """
import pytest
from kubernetes import client

from pytest_syncer.harness.waiting import wait_until

pytestmark = [pytest.mark.syncer_e2e, pytest.mark.syncer_targets(2)]


def config_map(name, mode):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
            "data": {"mode": mode}}


def test_syncs_through_a_conflict_and_a_fault(workload, conflicts, faults, tunnel_client):
    settings = workload(config_map("settings", "a"))
    settings.wait_converged()
    settings.update({"data": {"mode": "b"}})
    settings.wait_synced()
    conflicts.drift(settings, "target-000", {"data": {"mode": "drifted"}})
    settings.wait_synced()
    faults.drop_tunnels()
    for target in ("target-000", "target-001"):
        api = client.CoreV1Api(tunnel_client.api(target))
        wait_until(lambda: api.list_namespace(_request_timeout=5), lambda found: True,
                   what=f"the tunnel of {target} back", timeout=30, interval=0.2)


def test_fails_on_a_copy(workload):
    settings = workload(config_map("broken", "a"), targets=["target-000"])
    settings.wait_synced()
    settings.expected = {"data": {"mode": "never"}}
    settings.wait_synced(timeout=2)


def test_aggregation_that_never_comes(workload):
    web = workload({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx"}]}}},
    })
    web.wait_synced()
    web.wait_aggregated({"replicas": 99, "readyReplicas": 4}, timeout=3)
"""


CONFTEST = """
def pytest_syncer_failure_artifacts(item, env, directory):
    mine = directory / "mine.txt"
    mine.write_text(f"{item.name} on {env.size} targets")
    return [mine]


def pytest_syncer_summary(config, stats):
    return [f"from my hook: {sum(stats.faults.values())} faults"]
"""


def _stop(directory: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pytest_syncer", "down", str(directory)],
        check=False,
        timeout=120,
    )


def test_summary_artifacts_grid_and_keep_on_failure(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    monkeypatch.setenv("PYTEST_SYNCER_RUNS", str(runs))
    artifacts = tmp_path / "artifacts"
    junit = tmp_path / "junit.xml"
    pytester.makepyfile(RUN)
    pytester.makeconftest(CONFTEST)
    result = pytester.runpytest_subprocess(
        "--syncer-e2e",
        "--syncer-keep=on-failure",
        f"--syncer-artifacts={artifacts}",
        f"--junitxml={junit}",
        "--syncer-timeout=20",
    )
    kept = [line for line in result.stdout.lines if line.startswith("  stop it: ")]
    directory = Path(kept[0].split("pytest-syncer down ", 1)[1]) if kept else None
    try:
        result.assert_outcomes(passed=1, failed=2)
        # The summary's figures.
        result.stdout.fnmatch_lines(
            [
                "*- syncer -*",
                "2-target environment (embedded, 1 syncer processes) up in *",
                "sync latency: p50 *s, p95 *s, p99 *s over * copies on 2 targets (slowest *",
                "conflicts: 1 injected (drift 1), 1 resolved",
                "faults: 1 injected (drop-tunnels 1)",
                "tunnel reconnects: *",
            ]
        )
        result.stdout.fnmatch_lines(["from my hook: 1 faults"])
        [reconnects] = [line for line in result.stdout.lines if "tunnel reconnects:" in line]
        assert int(reconnects.rsplit(" ", 1)[1]) >= 2  # each target dialled the new hub
        # The aggregation grid: which target holds what.
        result.stdout.fnmatch_lines(
            [
                "*status per target (SyncStatus downstreamStatus) beside the aggregate:",
                "*phase*replicas*readyReplicas*",
                "*expected*99*4*",
                "*aggregate*",
                "*target-000*Synced*2*",
                "*target-001*Synced*2*",
            ]
        )
        # A failing test's artifacts: in the report, on disk, in JUnit XML.
        result.stdout.fnmatch_lines(["*- syncer artifacts -*", "*objects in*"])
        result.stdout.fnmatch_lines(["*- syncer logs (this test's window) -*", "==> *.log*"])
        [failed] = [d for d in artifacts.iterdir() if "test_fails_on_a_copy" in d.name]
        upstream = next((failed / "objects" / "upstream").glob("ConfigMap-*-broken.yaml"))
        below = next((failed / "objects" / "target-000").glob("ConfigMap-*-broken.yaml"))
        assert "mode: a" in upstream.read_text()
        assert "mode: a" in below.read_text()
        assert not (failed / "objects" / "target-001").exists()  # never placed there
        logs = sorted(path.name for path in (failed / "logs").iterdir())
        assert any(name.startswith("syncer-") for name in logs), logs
        properties = {
            (prop.get("name"), prop.get("value"))
            for case in ET.parse(junit).getroot().iter("testcase")
            if case.get("name") == "test_fails_on_a_copy"
            for prop in case.iter("property")
        }
        assert ("syncer_artifacts", str(failed)) in properties
        assert ("syncer_artifact", str(upstream)) in properties
        mine = failed / "mine.txt"
        assert mine.read_text() == "test_fails_on_a_copy on 2 targets"
        assert ("syncer_artifact", str(mine)) in properties
        result.stdout.fnmatch_lines([f"*{failed}"])
        # No secret in any artifact: not the tunnel tokens, not the kubeconfigs' tokens.
        assert directory is not None
        secrets = [p.read_text().strip() for p in (directory / "tunnel-tokens").iterdir()]
        secrets.append((directory / "hub-secret").read_text().strip())
        for path in artifacts.rglob("*"):
            if path.is_file():
                text = path.read_text()
                assert not any(secret in text for secret in secrets), path
                assert not re.search(r"(?i)bearer\s+(?!<redacted>)\S{8,}", text), path
        # Kept: still running after pytest exited, reachable as the summary says.
        result.stdout.fnmatch_lines(
            [
                "kept the 2-target environment (a test failed), still running in *",
                "  hub: https://127.0.0.1:*",
                "  upstream: kubectl --kubeconfig * get synctargets",
                "  targets: kubectl --kubeconfig * get namespaces (target-000; *",
                "  stop it: pytest-syncer down *",
            ]
        )
        facts = EnvironmentFacts.read(directory)
        assert facts.live_pids() == facts.process_groups
        assert len(facts.process_groups) == embedded_processes(2)
        listed = subprocess.run(
            [
                "kubectl",
                "--kubeconfig",
                facts.upstream_kubeconfig,
                "get",
                "synctargets",
                "-o",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert sorted(i["metadata"]["name"] for i in json.loads(listed.stdout)["items"]) == [
            "target-000",
            "target-001",
        ]
        stopped = subprocess.run(
            [sys.executable, "-m", "pytest_syncer", "down", str(directory)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "stopped the environment" in stopped.stderr
        assert not any(pid_alive(pid) for pid in facts.process_groups)
    finally:
        if directory is not None:
            _stop(directory)


PASSING = """
import pytest

@pytest.mark.syncer_e2e
@pytest.mark.syncer_targets(1)
def test_passes(syncer_env):
    assert syncer_env.size == 1
"""


def test_keep_on_failure_stops_an_environment_whose_tests_passed(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    monkeypatch.setenv("PYTEST_SYNCER_RUNS", str(runs))
    pytester.makepyfile(PASSING)
    result = pytester.runpytest_subprocess("--syncer-e2e", "--syncer-keep=on-failure")
    result.assert_outcomes(passed=1)
    assert not any("kept the" in line for line in result.stdout.lines)
    result.stdout.fnmatch_lines(
        [
            "sync latency: no wait observed a sync",
            "conflicts: 0 injected, 0 resolved",
            "faults: 0 injected",
            "tunnel reconnects: 0",
        ]
    )
    leftovers = [path for path in runs.rglob("*") if path.is_file()]
    assert leftovers == []  # no record, no directory: nothing runs on
