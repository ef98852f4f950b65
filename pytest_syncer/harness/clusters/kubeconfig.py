"""Existing clusters named by a kubeconfig: context `upstream` is the workspace, every other
context is a physical cluster, and the targets are spread over those round-robin (many
targets share one cluster: the target is in the downstream namespace hash).

The provider installs the shipped CRDs (SyncTarget, SyncStatus: `pytest_syncer/data/crds/`) and
the syncer's RBAC above, and the syncer's RBAC below, as a real cluster needs them.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from pytest_syncer.data import shipped
from pytest_syncer.harness.clusters.base import FaultNotSupported, ProvidedClusters
from pytest_syncer.harness.kube import SYNC_TARGETS, Cluster
from pytest_syncer.harness.waiting import wait_until

UPSTREAM_CONTEXT = "upstream"
CRDS_DIR = shipped("crds")
UPSTREAM_MANIFESTS = (
    "synctargets.workload.kcp.io.yaml",
    "syncstatuses.workload.kcp.io.yaml",
    "rbac-upstream.yaml",
)
DOWNSTREAM_MANIFESTS = ("rbac-downstream.yaml",)


class KubeconfigError(ValueError):
    """A kubeconfig the provider cannot use; says what is missing."""


def _inline(entry: dict[str, Any], key: str, base: Path) -> None:
    """Turn a file reference (`certificate-authority`) into its `-data` twin."""
    if key in entry:
        path = Path(entry.pop(key))
        path = path if path.is_absolute() else base / path
        entry[f"{key}-data"] = base64.b64encode(path.read_bytes()).decode()


def split_contexts(kubeconfig: Path, outdir: Path) -> dict[str, Path]:
    """One self-contained kubeconfig file per context (the contract passes files, not
    contexts), file references inlined."""
    try:
        config = yaml.safe_load(kubeconfig.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise KubeconfigError(f"cannot read {kubeconfig}: {error}") from None
    clusters = {c["name"]: c["cluster"] for c in config.get("clusters") or ()}
    users = {u["name"]: u["user"] for u in config.get("users") or ()}
    outdir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for context in config.get("contexts") or ():
        name = context["name"]
        spec = context["context"]
        cluster = dict(clusters[spec["cluster"]])
        user = dict(users.get(spec.get("user", ""), {}))
        _inline(cluster, "certificate-authority", kubeconfig.parent)
        _inline(user, "client-certificate", kubeconfig.parent)
        _inline(user, "client-key", kubeconfig.parent)
        single = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": cluster}],
            "users": [{"name": name, "user": user}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
        }
        path = outdir / f"{name.replace('/', '_')}.kubeconfig"
        path.write_text(yaml.safe_dump(single))
        path.chmod(0o600)
        files[name] = path
    if UPSTREAM_CONTEXT not in files:
        raise KubeconfigError(
            f"{kubeconfig} has no context named {UPSTREAM_CONTEXT!r} (contexts: {sorted(files)})"
        )
    if len(files) < 2:
        raise KubeconfigError(f"{kubeconfig} has no target context besides {UPSTREAM_CONTEXT!r}")
    return files


def install(cluster: Cluster, paths: Sequence[Path]) -> None:
    """Create every object of these files; what exists already is left as it is."""
    for path in paths:
        if not path.is_file():
            raise KubeconfigError(
                f"missing {path}: a manifests folder holds "
                f"{', '.join(UPSTREAM_MANIFESTS + DOWNSTREAM_MANIFESTS)}"
            )
        for obj in yaml.safe_load_all(path.read_text()):
            if obj:
                cluster.ensure(obj)


def upstream_cluster_name(server: str) -> str:
    """The logical cluster in a kcp-style URL (`.../clusters/<name>`), else the context name."""
    _, found, rest = server.partition("/clusters/")
    return rest.split("/")[0] if found and rest else UPSTREAM_CONTEXT


class KubeconfigProvider:
    """Targets on existing clusters; nothing is started, so nothing needs stopping."""

    name = "kubeconfig"

    def __init__(self, kubeconfig: Path, *, manifests: Path = CRDS_DIR) -> None:
        self.kubeconfig = kubeconfig
        self.manifests = manifests

    def start(self, workdir: Path, targets: Sequence[str]) -> ProvidedClusters:
        files = split_contexts(self.kubeconfig, workdir / "kubeconfigs")
        physical = sorted(name for name in files if name != UPSTREAM_CONTEXT)
        upstream = Cluster(UPSTREAM_CONTEXT, files[UPSTREAM_CONTEXT])
        try:
            install(upstream, [self.manifests / name for name in UPSTREAM_MANIFESTS])
            wait_until(
                lambda: upstream.list(SYNC_TARGETS),
                lambda _: True,
                what="the SyncTarget CRD served upstream",
                timeout=60,
                interval=0.5,
            )
            server = upstream.api.configuration.host
        finally:
            upstream.close()
        for name in physical:
            below = Cluster(name, files[name])
            try:
                install(below, [self.manifests / name for name in DOWNSTREAM_MANIFESTS])
            finally:
                below.close()
        downstream = {
            target: files[physical[index % len(physical)]] for index, target in enumerate(targets)
        }
        return ProvidedClusters(
            upstream_kubeconfig=files[UPSTREAM_CONTEXT],
            upstream_cluster=upstream_cluster_name(server),
            downstream_kubeconfigs=downstream,
            facts={"kubeconfig": str(self.kubeconfig), "clusters": str(len(physical))},
        )

    def restart_apiserver(self, cluster: str | None = None) -> list[str]:
        raise FaultNotSupported("the kubeconfig provider cannot restart an existing API server")

    def pids(self) -> list[int]:
        return []

    def stop(self) -> None:
        """Nothing was started; the installed CRDs and RBAC stay for the next run."""
