"""kind clusters through pytest-kind: the first holds the upstream workspace, the targets are
packed onto the others (onto the first too when there is only one).

pytest-kind is handed the `kind` already on PATH, so it never downloads a pinned binary (the
breakage its users report most); without a Docker engine the provider says so and the harness
skips instead of failing.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from pytest_syncer.data import shipped
from pytest_syncer.harness.clusters.base import (
    FaultNotSupported,
    ProvidedClusters,
    ProviderUnavailable,
)
from pytest_syncer.harness.clusters.kubeconfig import CRDS_DIR, UPSTREAM_CONTEXT, KubeconfigProvider

KIND_CONFIG = shipped("kind", "cluster.yaml")
CLUSTER_PREFIX = "pytest-syncer"
DOCKER_TIMEOUT = 20.0


def docker_answers() -> str | None:
    """None when a Docker engine answers `docker info`; else why not."""
    docker = shutil.which("docker")
    if docker is None:
        return "no `docker` on PATH"
    try:
        result = subprocess.run(
            [docker, "info"], capture_output=True, text=True, timeout=DOCKER_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return f"`docker info` did not answer within {DOCKER_TIMEOUT:g}s"
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return f"`docker info` failed: {last}"
    return None


def merge_kubeconfigs(files: Sequence[Path], names: Sequence[str], out: Path) -> Path:
    """One kubeconfig with one context per file, named `names[i]` (files from `kind create`
    hold one context each)."""
    merged: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "clusters": []}
    merged.update(users=[], contexts=[], **{"current-context": names[0]})
    for path, name in zip(files, names, strict=True):
        config = yaml.safe_load(path.read_text())
        merged["clusters"].append({"name": name, "cluster": config["clusters"][0]["cluster"]})
        merged["users"].append({"name": name, "user": config["users"][0]["user"]})
        merged["contexts"].append({"name": name, "context": {"cluster": name, "user": name}})
    out.write_text(yaml.safe_dump(merged))
    out.chmod(0o600)
    return out


class KindProvider:
    """`count` kind clusters, created with pytest-kind and deleted when the session ends."""

    name = "kind"

    def __init__(
        self, count: int, *, config_file: Path = KIND_CONFIG, manifests: Path = CRDS_DIR
    ) -> None:
        self.count = count
        self.config_file = config_file
        self.manifests = manifests
        self._clusters: list[Any] = []

    def start(self, workdir: Path, targets: Sequence[str]) -> ProvidedClusters:
        kind = shutil.which("kind")
        if kind is None:
            raise ProviderUnavailable("provider kind: no `kind` on PATH (nothing is downloaded)")
        reason = docker_answers()
        if reason is not None:
            raise ProviderUnavailable(f"provider kind: no Docker engine answers ({reason})")
        from pytest_kind import KindCluster  # type: ignore[import-untyped]

        workdir.mkdir(parents=True, exist_ok=True)
        files: list[Path] = []
        for index in range(self.count):
            kubeconfig = workdir / f"kind-{index}.kubeconfig"
            cluster = KindCluster(
                f"{CLUSTER_PREFIX}-{index}", kubeconfig=kubeconfig, kind_path=Path(kind)
            )
            self._clusters.append(cluster)
            cluster.create(config_file=self.config_file)
            files.append(kubeconfig)
        names = [UPSTREAM_CONTEXT] + [f"kind-{CLUSTER_PREFIX}-{i}" for i in range(1, self.count)]
        if self.count == 1:
            files, names = [files[0], files[0]], [UPSTREAM_CONTEXT, f"kind-{CLUSTER_PREFIX}-0"]
        merged = merge_kubeconfigs(files, names, workdir / "kind.kubeconfig")
        provided = KubeconfigProvider(merged, manifests=self.manifests).start(workdir, targets)
        return ProvidedClusters(
            upstream_kubeconfig=provided.upstream_kubeconfig,
            upstream_cluster=provided.upstream_cluster,
            downstream_kubeconfigs=provided.downstream_kubeconfigs,
            facts={"kind clusters": str(self.count), "kind": kind},
        )

    def restart_apiserver(self, cluster: str | None = None) -> list[str]:
        raise FaultNotSupported("the kind provider does not restart a kind API server")

    def pids(self) -> list[int]:
        """kind's clusters are containers, not processes of ours."""
        return []

    def stop(self) -> None:
        for cluster in reversed(self._clusters):
            cluster.delete()
        self._clusters.clear()
