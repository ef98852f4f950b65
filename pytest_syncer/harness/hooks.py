"""The hooks a user's conftest or plugin can implement (registered via `pytest_addhooks`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_syncer.harness.environment import SyncerEnvironment
    from pytest_syncer.harness.run_stats import RunStats


def pytest_syncer_summary(config: pytest.Config, stats: RunStats) -> list[str]:  # type: ignore[empty-body]
    """Lines to add to the "syncer" section of the terminal summary, after the harness's own
    figures. `stats` holds the run's figures (merged over every environment and every
    pytest-xdist worker): `latencies` per target, `status_latencies`, `conflicts_injected`,
    `conflicts_resolved`, `faults`, `reconnects`. Called on the process that prints the summary."""


def pytest_syncer_failure_artifacts(  # type: ignore[empty-body]
    item: pytest.Item, env: SyncerEnvironment, directory: Path
) -> list[Path]:
    """A test using `env` failed: write more artifacts under `directory` (the test's own
    artifacts folder) and return their paths; they are listed in the report and recorded as
    JUnit XML properties like the harness's own."""
