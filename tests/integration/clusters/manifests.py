"""fixtures/crds/ for the embedded server: its name rules still refuse path-segment names such
as the ClusterRole `pytest-syncer:upstream` (real clusters accept them), so these tests install
a copy with `:` spelled `-`. Everything else is the shipped manifests."""

from __future__ import annotations

from pathlib import Path

from pytest_syncer.harness.clusters.kubeconfig import CRDS_DIR


def embedded_safe_manifests(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for path in CRDS_DIR.glob("*.yaml"):
        (out / path.name).write_text(path.read_text().replace("pytest-syncer:", "pytest-syncer-"))
    return out
