"""Jobs: ready means done, the `Complete` condition true (a failed Job never gets there)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_syncer.syncer.handlers.base import KindHandler
from pytest_syncer.syncer.handlers.readiness import condition_is


def job_ready(obj: Mapping[str, Any]) -> bool:
    return condition_is(obj, "Complete", "True")


HANDLER = KindHandler("batch/v1", "Job", "jobs", job_ready)
