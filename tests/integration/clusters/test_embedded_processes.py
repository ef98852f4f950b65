"""The embedded provider with two API server processes (`--syncer-apiservers 2`): the
upstream in one, the targets in the other, syncing across them, and a restart of one process
that keeps its data while the syncers reconnect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_syncer.process.proc import pid_alive

INNER = """
import json
import os
from urllib.parse import urlsplit

import pytest
import yaml

pytestmark = pytest.mark.syncer_e2e


def server_of(kubeconfig):
    document = yaml.safe_load(open(kubeconfig))
    [cluster] = document["clusters"]
    return cluster["cluster"]


def test_upstream_and_targets_are_served_by_different_processes(syncer_env):
    with open(os.environ["PIDS_FILE"], "w") as out:
        json.dump(syncer_env.pids(), out)
    provider = syncer_env.provider
    upstream = provider.apiserver_pid("upstream")
    targets = {provider.apiserver_pid(name) for name in syncer_env.targets}
    assert targets and upstream not in targets and len(targets) == 1
    above = server_of(syncer_env.clusters.upstream_kubeconfig)
    below = [server_of(p) for p in syncer_env.clusters.downstream_kubeconfigs.values()]
    assert urlsplit(above["server"]).path == "/clusters/upstream"
    assert {urlsplit(b["server"]).port for b in below} != {urlsplit(above["server"]).port}
    assert len({urlsplit(b["server"]).port for b in below}) == 1
    # One CA signs every process's serving certificate: one trust anchor for all clusters.
    cas = {above["certificate-authority-data"], *(b["certificate-authority-data"] for b in below)}
    assert len(cas) == 1
    assert syncer_env.facts()["apiserver processes"] == "2"


def test_a_workload_syncs_from_one_process_to_the_other(workload):
    settings = workload("configmap.yaml", targets=3)
    settings.wait_converged()


def test_restarting_the_targets_process_keeps_its_data_and_the_syncers_reconnect(
    syncer_env, faults, workload
):
    provider = syncer_env.provider
    settings = workload("configmap.yaml", targets=2)
    settings.wait_synced()
    [target, _] = settings.placed
    copy = settings.downstream(target)
    upstream_pid, target_pid = provider.apiserver_pid("upstream"), provider.apiserver_pid(target)
    faults.restart_apiserver(target)
    assert provider.apiserver_pid("upstream") == upstream_pid
    assert provider.apiserver_pid(target) != target_pid
    kept = settings.downstream(target)
    assert kept["metadata"]["uid"] == copy["metadata"]["uid"]
    assert kept["metadata"]["resourceVersion"] == copy["metadata"]["resourceVersion"]
    settings.update({"data": {"mode": "after-restart"}})
    settings.place(*workload.choose(1, exclude=settings.placed))
    settings.wait_converged()


def test_restarting_the_upstreams_process_leaves_the_targets_process_alone(
    syncer_env, faults, workload
):
    provider = syncer_env.provider
    settings = workload("configmap.yaml", targets=1)
    settings.wait_synced()
    target_pid = provider.apiserver_pid("target-000")
    faults.restart_apiserver("upstream")
    assert provider.apiserver_pid("target-000") == target_pid
    settings.update({"data": {"mode": "after-upstream-restart"}})
    settings.wait_converged()
"""


def test_two_api_server_processes(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pids_file = tmp_path / "pids.json"
    monkeypatch.setenv("PIDS_FILE", str(pids_file))
    pytester.makepyfile(INNER)
    result = pytester.runpytest_subprocess(
        "--syncer-e2e",
        "--syncer-targets=3",
        "--syncer-apiservers=2",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*3 targets, reference syncer, pooled, 2 API server processes*"])
    pids = json.loads(pids_file.read_text())
    assert len(pids) == 5  # two API servers, the simulator, the hub, one syncer pool
    assert [pid for pid in pids if pid_alive(pid)] == []
