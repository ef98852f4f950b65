"""One HTTPS embedded API server per module, and raw HTTP clients with its tokens; for the modules
whose behaviour depends on the store, a server per store instead (``server``, ``client``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from tests.integration.apiserver.clients import ClusterClient
from tests.integration.apiserver.stores import STORES, client_for, served
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


@pytest.fixture(scope="module", params=STORES)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BackgroundAPIServer]:
    """The module's server on each store, with a second logical cluster beside the upstream."""
    directory = tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2])
    with served(request.param, directory, ("upstream", "other")) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: BackgroundAPIServer) -> ClusterClient:
    return client_for(server)
