"""Optional mutual TLS: with a client CA configured, a tunnel needs a certificate naming its
target as well as its token."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pytest_syncer.apiserver.certs import CertificateAuthority
from pytest_syncer.apiserver.kubeconfig import write_kubeconfig
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.hub.command import Hub
from pytest_syncer.tunnel.auth import TokenAuthority
from pytest_syncer.tunnel.client import DownstreamForwarder
from pytest_syncer.tunnel.endpoint import ClusterEndpoint
from pytest_syncer.tunnel.manager import Backoff, TunnelManager
from pytest_syncer.tunnel.server import tunnel_url

from .conftest import HUB_TOKEN, TARGET, WORKSPACE, serve, upstream_app


@pytest.fixture
async def mtls_hub(tmp_path: Path) -> AsyncIterator[tuple[Hub, TokenAuthority, Path]]:
    CertificateAuthority.load_or_create(tmp_path / "clients", "tunnel-clients")
    runner, url = await serve(upstream_app())
    kubeconfig = write_kubeconfig(
        tmp_path / "upstream.kubeconfig",
        server=f"{url}/clusters/{WORKSPACE}",
        token=HUB_TOKEN,
        ca_pem=None,
        name="upstream",
    )
    secret = tmp_path / "secret"
    secret.write_text(secrets.token_hex(32))
    hub = Hub(
        kubeconfig,
        secret,
        state_dir=tmp_path / "hub",
        client_ca_file=tmp_path / "clients" / "ca.crt",
    )
    async with hub:
        yield hub, TokenAuthority.from_file(secret), tmp_path
    await runner.cleanup()


def client_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    clients = CertificateAuthority.load_or_create(directory / "clients", "tunnel-clients")
    cert_pem, key_pem = clients.issue_client_certificate(name)
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    cert.write_bytes(cert_pem)
    key.write_bytes(key_pem)
    return cert, key


@pytest.mark.parametrize(
    ("certificate_name", "connects"),
    [(TARGET, True), ("eu-west1", False), (None, False)],
)
async def test_the_client_certificate_must_name_the_target(
    mtls_hub: tuple[Hub, TokenAuthority, Path], certificate_name: str | None, connects: bool
) -> None:
    hub, authority, directory = mtls_hub
    certificate = (
        client_certificate(directory, certificate_name) if certificate_name is not None else None
    )
    endpoint = ClusterEndpoint("http://127.0.0.1:9", False, None)
    async with DownstreamForwarder(endpoint, target=TARGET) as forwarder:
        manager = TunnelManager(
            tunnel_url(hub.url, WORKSPACE, TARGET),
            forwarder,
            token=authority.mint(WORKSPACE, TARGET, ttl=60),
            ca_file=hub.ca_file,
            client_certificate=certificate,
            backoff=Backoff(0.01, 0.02),
        )
        async with manager:
            if connects:
                await manager.wait_connected(10)
                assert manager.counters.refused == 0
            else:
                await await_until(
                    lambda: asyncio.sleep(0, manager.counters.refused),
                    lambda refused: refused >= 2,
                    what="the hub to refuse the tunnel twice",
                    timeout=10,
                )
                assert manager.counters.connects == 0
