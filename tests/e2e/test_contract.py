"""The contract: the core scenarios again, against the reference syncer started the way any
other syncer would be, through `--syncer-command` (one process per target, no ready line), told
the resources to sync (the built-in kinds and the sample Widget) through `{resources}`."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.syncer_e2e

ROOT = Path(__file__).resolve().parents[2]
COMMAND = " ".join(
    [
        shlex.quote(sys.executable),
        "-m pytest_syncer syncer",
        "--upstream-kubeconfig {upstream_kubeconfig}",
        "--downstream-kubeconfig {downstream_kubeconfig}",
        "--sync-target {target}",
        "--upstream-cluster {upstream_cluster}",
        "--tunnel-url {tunnel_url}",
        "--tunnel-token-file {tunnel_token_file}",
        "--tunnel-ca-file {tunnel_ca_file}",
        "--resources {resources}",
        "--heartbeat-interval 1",
        "--namespace-cleanup-delay 1",
    ]
)
CORE = (
    "test_workloads.py::test_place_update_relabel_delete[deployment.yaml]",
    "test_workloads.py::test_place_update_relabel_delete[configmap.yaml]",
    "test_workloads.py::test_place_update_relabel_delete[service.yaml]",
    "test_custom_resources.py::test_a_widget_is_placed_updated_relabelled_and_deleted",
    "test_conflicts.py::test_conflict_scenario[upstream-wins-drift]",
    "test_conflicts.py::test_conflict_scenario[retain-replicas]",
    "test_conflicts.py::test_conflict_scenario[abort-foreign]",
    "test_tunnel.py::test_tunnel_reaches_each_targets_own_api",
    "test_faults.py::test_sigkilled_syncer_catches_up_after_restart",
)


def test_core_scenarios_through_syncer_command(pytester: pytest.Pytester) -> None:
    e2e = Path(__file__).resolve().parent
    result = pytester.runpytest_subprocess(
        *(str(e2e / test) for test in CORE),
        "--syncer-e2e",
        "--syncer-targets=6",
        f"--syncer-command={COMMAND}",
        f"--rootdir={ROOT}",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=len(CORE))
    result.stdout.fnmatch_lines(
        ["*syncer: provider embedded, 6 targets, *-m pytest_syncer syncer*"]
    )
