"""PersistentVolumeClaims: ready once Bound to a volume."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_syncer.syncer.handlers.base import KindHandler
from pytest_syncer.syncer.handlers.readiness import status_of


def claim_ready(obj: Mapping[str, Any]) -> bool:
    return status_of(obj).get("phase") == "Bound"


HANDLER = KindHandler("v1", "PersistentVolumeClaim", "persistentvolumeclaims", claim_ready)
