"""What the package needs at run time besides code, shipped inside it so a wheel install works
anywhere: the SyncTarget and SyncStatus CRDs and the syncer's RBAC (`crds/`), the kind cluster
config (`kind/`), the sample workloads (`workloads/`) and the conflict scenarios (`conflicts/`)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def shipped(*parts: str) -> Path:
    """A file or folder of the shipped data, as a path (the providers hand paths to tools)."""
    found = files(__name__).joinpath(*parts)
    if not isinstance(found, Path):
        raise RuntimeError(f"pytest_syncer's data is not on the file system ({found})")
    return found
