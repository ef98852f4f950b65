"""One HTTPS embedded API server per module, and raw HTTP clients with its tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from tests.integration.apiserver.clients import ClusterClient
from tests.support.tokens import token_of


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundAPIServer]:
    directory = tmp_path_factory.mktemp("apiserver")
    server = BackgroundAPIServer(
        ["upstream", "target-1"], directory / "kubeconfigs", bookmark_interval=0.2
    )
    with server:
        yield server


@pytest.fixture(scope="module")
def upstream(apiserver: BackgroundAPIServer) -> ClusterClient:
    return ClusterClient(
        f"{apiserver.url}/clusters/upstream",
        token_of(apiserver.kubeconfigs["upstream"]),
        str(apiserver.ca_file),
    )


@pytest.fixture(scope="module")
def admin(apiserver: BackgroundAPIServer) -> ClusterClient:
    return ClusterClient(
        apiserver.url, token_of(apiserver.admin_kubeconfig), str(apiserver.ca_file)
    )
