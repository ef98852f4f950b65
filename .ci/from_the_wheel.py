"""Run by `.ci/wheel` with the fresh venv's python, from outside the checkout: the installed
wheel's `pytest-syncer up --targets 3` comes up and stops, and PROJECT's e2e tests pass on the
kubeconfig provider (on a `pytest-syncer apiserver` serving an upstream and two clusters), which
installs the SyncTarget and SyncStatus CRDs and the RBAC shipped in the wheel.

usage: python - PROJECT WORKDIR < .ci/from_the_wheel.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest_syncer
from pytest_syncer.harness.clusters.kind import merge_kubeconfigs
from pytest_syncer.harness.kube import KINDS, SYNC_TARGETS, Cluster
from pytest_syncer.process.parent import ServiceProcess

CLUSTERS = ["upstream", "phys-a", "phys-b"]
CLUSTER_ROLES = KINDS[("rbac.authorization.k8s.io/v1", "ClusterRole")]
CRDS = KINDS[("apiextensions.k8s.io/v1", "CustomResourceDefinition")]


def check_installed() -> None:
    """The package comes from the venv, not from a checkout on sys.path."""
    location = Path(pytest_syncer.__file__).resolve()
    if not location.is_relative_to(Path(sys.prefix).resolve()):
        sys.exit(f"pytest_syncer is imported from {location}, outside the venv {sys.prefix}")
    print(f"pytest_syncer from {location.parent}", flush=True)


def up_three_targets(workdir: Path) -> None:
    """`pytest-syncer up --targets 3` serves three SyncTargets upstream, then stops cleanly."""
    up = ServiceProcess(
        "up",
        ["--targets", "3", "--dir", str(workdir / "up")],
        log_path=workdir / "up.log",
        startup_timeout=180,
    )
    with up:
        upstream = Cluster("upstream", Path(up.ready["upstream_kubeconfig"]))
        try:
            names = sorted(t["metadata"]["name"] for t in upstream.list(SYNC_TARGETS))
        finally:
            upstream.close()
    if len(names) != 3 or up.stop() != 0:
        sys.exit(f"pytest-syncer up --targets 3: SyncTargets {names}, see {workdir / 'up.log'}")
    print(f"pytest-syncer up --targets 3: {', '.join(names)}; stopped", flush=True)


def e2e_on_the_kubeconfig_provider(project: Path, workdir: Path) -> int:
    """PROJECT's tests on existing clusters, and the wheel's CRDs and RBAC found on them."""
    apiserver = ServiceProcess(
        "apiserver",
        [f"--clusters={','.join(CLUSTERS)}", f"--kubeconfig-dir={workdir / 'kubeconfigs'}"],
        log_path=workdir / "apiserver.log",
    )
    with apiserver:
        files = [Path(apiserver.ready["kubeconfigs"][name]) for name in CLUSTERS]
        kubeconfig = merge_kubeconfigs(files, CLUSTERS, workdir / "clusters.kubeconfig")
        pytest = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--syncer-e2e"]
        provider = ["--syncer-provider=kubeconfig", f"--syncer-kubeconfig={kubeconfig}"]
        code = subprocess.call([*pytest, *provider, "--syncer-targets=3"], cwd=project)
        upstream = Cluster("upstream", files[0])
        try:
            installed = upstream.find(CRDS, "synctargets.workload.kcp.io") is not None
            installed &= upstream.find(CLUSTER_ROLES, "pytest-syncer:upstream") is not None
        finally:
            upstream.close()
    if code == 0 and not installed:
        sys.exit("the kubeconfig provider did not install the shipped CRDs and RBAC upstream")
    return code


def main() -> int:
    project, workdir = Path(sys.argv[1]), Path(sys.argv[2])
    check_installed()
    up_three_targets(workdir)
    return e2e_on_the_kubeconfig_provider(project, workdir)


if __name__ == "__main__":
    sys.exit(main())
