"""The kubeconfig provider against real clusters: an embedded API server playing an upstream
and two physical clusters, reached only through a kubeconfig with three contexts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_syncer.harness.clusters.kind import merge_kubeconfigs
from pytest_syncer.harness.clusters.kubeconfig import (
    KubeconfigError,
    KubeconfigProvider,
    split_contexts,
)
from pytest_syncer.harness.kube import KINDS, Cluster
from pytest_syncer.process.parent import ServiceProcess

ROOT = Path(__file__).parents[3]
SAMPLE_CRDS = ROOT / "fixtures" / "crds" / "workloads"
CLUSTER_ROLES = KINDS[("rbac.authorization.k8s.io/v1", "ClusterRole")]
PHYSICAL = ["phys-a", "phys-b"]


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("kubeconfig-provider")
    server = ServiceProcess(
        "apiserver",
        [f"--clusters=upstream,{','.join(PHYSICAL)}", f"--kubeconfig-dir={work / 'kc'}"],
        log_path=work / "apiserver.log",
    )
    with server:
        files = [Path(server.ready["kubeconfigs"][name]) for name in ["upstream", *PHYSICAL]]
        yield merge_kubeconfigs(files, ["upstream", *PHYSICAL], work / "clusters.kubeconfig")


def test_targets_spread_round_robin_over_the_physical_clusters(
    kubeconfig: Path, tmp_path: Path
) -> None:
    targets = [f"t{index}" for index in range(5)]
    provided = KubeconfigProvider(kubeconfig).start(tmp_path, targets)
    stems = {name: path.stem for name, path in provided.downstream_kubeconfigs.items()}
    assert stems == {"t0": "phys-a", "t1": "phys-b", "t2": "phys-a", "t3": "phys-b", "t4": "phys-a"}
    assert provided.upstream_cluster == "upstream"
    assert not provided.simulated


def test_crds_and_rbac_are_installed_above_and_below(kubeconfig: Path, tmp_path: Path) -> None:
    provided = KubeconfigProvider(kubeconfig).start(tmp_path, ["t0", "t1"])
    upstream = Cluster("upstream", provided.upstream_kubeconfig)
    assert upstream.find(CLUSTER_ROLES, "pytest-syncer:upstream") is not None
    upstream.close()
    for path in set(provided.downstream_kubeconfigs.values()):
        below = Cluster(path.stem, path)
        assert below.find(CLUSTER_ROLES, "pytest-syncer:downstream") is not None
        below.close()


def test_a_kubeconfig_without_an_upstream_context_is_refused(
    kubeconfig: Path, tmp_path: Path
) -> None:
    renamed = tmp_path / "renamed.kubeconfig"
    renamed.write_text(kubeconfig.read_text().replace("upstream", "workspace"))
    with pytest.raises(KubeconfigError, match="no context named 'upstream'"):
        split_contexts(renamed, tmp_path / "out")


def test_e2e_suite_runs_on_existing_clusters(kubeconfig: Path, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        pytestmark = pytest.mark.syncer_e2e
        WIDGET = {str(ROOT / "fixtures" / "workloads" / "widget.yaml")!r}

        def test_placed_on_every_target(workload, sync_targets):
            assert len({{t.cluster.kubeconfig for t in sync_targets}}) == 2
            settings = workload(
                {{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {{"name": "c"}},
                 "data": {{"k": "v"}}}},
            )
            settings.wait_converged()

        def test_no_simulator_on_real_clusters(status_profiles):
            pass

        def test_custom_resources_on_every_physical_cluster(workload, syncer_env):
            from pytest_syncer.harness.kube import KINDS

            crds = KINDS[("apiextensions.k8s.io/v1", "CustomResourceDefinition")]
            clusters = {{t.cluster.name: t.cluster for t in syncer_env.target_list()}}
            for cluster in [syncer_env.upstream, *clusters.values()]:
                assert cluster.find(crds, "widgets.example.com") is not None, cluster.name
            gizmo = workload(WIDGET, targets=["target-000", "target-001"])
            gizmo.wait_converged()
        """
    )
    result = pytester.runpytest_subprocess(
        "--syncer-e2e",
        "--syncer-provider=kubeconfig",
        f"--syncer-kubeconfig={kubeconfig}",
        "--syncer-targets=4",
        f"--syncer-crds={SAMPLE_CRDS}",
        "-rs",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["*provider kubeconfig runs real controllers, no simulator*"])
