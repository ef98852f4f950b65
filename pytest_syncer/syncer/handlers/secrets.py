"""Secrets: data and type, no controller, ready once they exist.

`stringData` is write-only (the server folds it into `data`), so it is not spec: comparing it
would find drift on every read.
"""

from __future__ import annotations

from pytest_syncer.syncer.handlers.base import KindHandler, always_ready

HANDLER = KindHandler(
    "v1",
    "Secret",
    "secrets",
    always_ready,
    spec_fields=("data", "type", "immutable"),
)
