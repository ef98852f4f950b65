"""ConfigMaps: data, no controller, ready once they exist."""

from __future__ import annotations

from pytest_syncer.syncer.handlers.base import KindHandler, always_ready

HANDLER = KindHandler(
    "v1",
    "ConfigMap",
    "configmaps",
    always_ready,
    spec_fields=("data", "binaryData", "immutable"),
)
