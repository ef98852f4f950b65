"""One HTTPS API server per module with an upstream and two downstream logical clusters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from tests.integration.syncer.environment import UPSTREAM


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundAPIServer]:
    directory = tmp_path_factory.mktemp("apiserver")
    server = BackgroundAPIServer(
        [UPSTREAM, "down-1", "down-2"], directory / "kubeconfigs", bookmark_interval=1.0
    )
    with server:
        yield server
