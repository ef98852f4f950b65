"""One HTTPS API server per module with an upstream and two downstream logical clusters, and
clients for the module's rig (each module builds its own ``environment``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.kubeclient.client import KubeClient
from tests.integration.syncer.environment import UPSTREAM, SyncerProcessRig


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundAPIServer]:
    directory = tmp_path_factory.mktemp("apiserver")
    server = BackgroundAPIServer(
        [UPSTREAM, "down-1", "down-2"], directory / "kubeconfigs", bookmark_interval=1.0
    )
    with server:
        yield server


@pytest.fixture
async def upstream(environment: SyncerProcessRig) -> AsyncIterator[KubeClient]:
    async with await environment.client(UPSTREAM) as client:
        yield client


@pytest.fixture
async def clients(environment: SyncerProcessRig) -> AsyncIterator[dict[str, KubeClient]]:
    """A client for the upstream and for every cluster below the rig's targets."""
    below = sorted({target.downstream for target in environment.targets.values()})
    async with environment.clients(UPSTREAM, *below) as opened:
        yield opened
