"""A server per store for the tests whose behaviour depends on the store (memory or SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pytest_syncer.apiserver import BackgroundAPIServer
from tests.integration.apiserver.clients import ClusterClient
from tests.support.tokens import token_of

STORES = ("memory", "sqlite")


@contextmanager
def served(
    store: str, directory: Path, clusters: tuple[str, ...] = ("upstream",), **options: Any
) -> Iterator[BackgroundAPIServer]:
    """An HTTPS server on ``store``; SQLite keeps its state under ``directory/data``."""
    data_dir = directory / "data" if store == "sqlite" else None
    server = BackgroundAPIServer(
        list(clusters), directory / "kubeconfigs", data_dir=data_dir, **options
    )
    with server:
        yield server


def client_for(server: BackgroundAPIServer, cluster: str = "upstream") -> ClusterClient:
    return ClusterClient(
        f"{server.url}/clusters/{cluster}",
        token_of(server.kubeconfigs[cluster]),
        str(server.ca_file),
    )


def status_of(response: Any, code: int, reason: str | None = None) -> dict[str, Any]:
    """The Status body of a failed request, after checking its code (and reason)."""
    assert response.status_code == code, response.text
    body: dict[str, Any] = response.json()
    assert (body["kind"], body["code"]) == ("Status", code), body
    if reason is not None:
        assert body["reason"] == reason, body
    return body
