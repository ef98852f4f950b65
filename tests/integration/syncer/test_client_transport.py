"""KubeClient's transport against the real embedded API server: TLS as the kubeconfig says it
(CA data, a client certificate, `tls-server-name` as the name sent and checked), a kubeconfig's
`proxy-url`, and a server that goes away, comes back or hangs. Failures must be the errors the
syncer's handlers retry (`kubeclient.client.UNREACHABLE`), never something else or a hang."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import signal
import ssl
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_syncer.apiserver import EmbeddedAPIServer
from pytest_syncer.apiserver.certs import CertificateAuthority
from pytest_syncer.apiserver.kubeconfig import load_kubeconfig
from pytest_syncer.kubeclient.client import UNREACHABLE, ApiError, KubeClient, Resource
from pytest_syncer.process.parent import ServiceProcess

CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")
RELAY_NAME = "relay.test"
"""The only name the relay's certificate holds: a client that does not send and check it as
the kubeconfig's `tls-server-name` fails verification on 127.0.0.1."""


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[EmbeddedAPIServer]:
    async with EmbeddedAPIServer(["one"], tmp_path / "kubeconfigs") as running:
        yield running


def _port(url: str) -> int:
    return int(url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


async def _relay(
    port: int, server_tls: ssl.SSLContext | None = None, upstream_tls: ssl.SSLContext | None = None
) -> tuple[asyncio.Server, int, list[str]]:
    """A byte relay to the API server's port, and what it saw of each connection. With
    ``server_tls`` it terminates the client's TLS itself (seeing the client certificate's
    name); without, it reads a CONNECT first (seeing its line), a forward proxy as `proxy-url`
    names one."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if server_tls is None:
            head = await reader.readuntil(b"\r\n\r\n")
            seen.append(head.split(b"\r\n", 1)[0].decode())
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            certificate = writer.get_extra_info("peercert") or {}
            seen.append(dict(pair[0] for pair in certificate.get("subject", ()))["commonName"])
            up_reader, up_writer = await asyncio.open_connection(
                "127.0.0.1", port, ssl=upstream_tls
            )
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    seen: list[str] = []
    relay = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_tls)
    return relay, relay.sockets[0].getsockname()[1], seen


def _kubeconfig(source: Path, target: Path, cluster: dict[str, Any], user: dict[str, Any]) -> Path:
    document = load_kubeconfig(source)
    document["clusters"][0]["cluster"].update(cluster)
    document["users"][0]["user"].update(user)
    target.write_text(yaml.safe_dump(document))
    return target


def _without(
    source: Path, target: Path, *, cluster: Sequence[str] = (), user: Sequence[str] = ()
) -> Path:
    document = load_kubeconfig(source)
    for field in cluster:
        del document["clusters"][0]["cluster"][field]
    for field in user:
        del document["users"][0]["user"][field]
    target.write_text(yaml.safe_dump(document))
    return target


def _b64(pem: bytes) -> str:
    return base64.b64encode(pem).decode()


async def test_tls_takes_the_kubeconfig_ca_client_certificate_and_server_name(
    server: EmbeddedAPIServer, tmp_path: Path
) -> None:
    """A TLS front requiring a client certificate, its own CA and only the name `relay.test`:
    KubeClient must trust that CA, present the kubeconfig's certificate and check the
    `tls-server-name`, as kubectl does (kubeconfig field `tls-server-name`: "used to check
    server certificate", also sent as SNI)."""
    relay_ca = CertificateAuthority.generate("relay-ca")
    client_ca = CertificateAuthority.generate("client-ca")
    certificate, key = relay_ca.issue_server_certificate([RELAY_NAME], [])
    (tmp_path / "relay.crt").write_bytes(certificate)
    (tmp_path / "relay.key").write_bytes(key)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(tmp_path / "relay.crt", tmp_path / "relay.key")
    server_tls.load_verify_locations(cadata=client_ca.cert_pem.decode())
    server_tls.verify_mode = ssl.CERT_REQUIRED
    names: list[str | None] = []
    server_tls.sni_callback = lambda _socket, name, _context: names.append(name)
    upstream_tls = ssl.create_default_context(cafile=str(server.ca_file))
    relay, port, seen = await _relay(_port(server.url), server_tls, upstream_tls)
    client_certificate, client_key = client_ca.issue_client_certificate("syncer-one")
    cluster = {
        "server": f"https://127.0.0.1:{port}/clusters/one",
        "certificate-authority-data": _b64(relay_ca.cert_pem),
        "tls-server-name": RELAY_NAME,
    }
    user = {
        "client-certificate-data": _b64(client_certificate),
        "client-key-data": _b64(client_key),
    }
    kubeconfig = _kubeconfig(
        server.kubeconfigs["one"], tmp_path / "relay.kubeconfig", cluster, user
    )
    async with relay:
        async with await KubeClient.from_kubeconfig(kubeconfig, share_connections=True) as client:
            created = await client.create(CONFIGMAPS, _config_map("through-tls"))
            assert created["metadata"]["name"] == "through-tls"
            with pytest.raises(ApiError) as forbidden:
                await client.metrics()
            assert (forbidden.value.status, forbidden.value.reason) == (403, "Forbidden")
        assert seen
        assert set(seen) == {"syncer-one"}
        assert set(names) == {RELAY_NAME}

        wrong = _without(kubeconfig, tmp_path / "no-name.kubeconfig", cluster=["tls-server-name"])
        async with await KubeClient.from_kubeconfig(wrong) as client:
            with pytest.raises(ssl.SSLCertVerificationError):
                await client.get(CONFIGMAPS, "through-tls", "default")

        fields = ["client-certificate-data", "client-key-data"]
        no_certificate = _without(kubeconfig, tmp_path / "no-cert.kubeconfig", user=fields)
        async with await KubeClient.from_kubeconfig(no_certificate) as client:
            with pytest.raises(UNREACHABLE):
                await client.get(CONFIGMAPS, "through-tls", "default")


async def test_a_proxy_url_carries_requests_and_watches(
    server: EmbeddedAPIServer, tmp_path: Path
) -> None:
    """kubeconfig `proxy-url`: every connection goes through the proxy (CONNECT for https)."""
    proxy, port, seen = await _relay(_port(server.url))
    kubeconfig = _kubeconfig(
        server.kubeconfigs["one"],
        tmp_path / "proxied.kubeconfig",
        {"proxy-url": f"http://127.0.0.1:{port}"},
        {},
    )
    async with proxy, await KubeClient.from_kubeconfig(kubeconfig) as client:
        version = (await client.list(CONFIGMAPS, "default"))["metadata"]["resourceVersion"]
        await client.create(CONFIGMAPS, _config_map("through-the-proxy"))
        async for event in client.watch(CONFIGMAPS, version, "default"):
            if event["type"] == "ADDED":
                assert event["object"]["metadata"]["name"] == "through-the-proxy"
                break
        assert await client.delete(CONFIGMAPS, "through-the-proxy", "default") is not None
    assert set(seen) == {f"CONNECT 127.0.0.1:{_port(server.url)} HTTP/1.1"}
    assert len(seen) >= 2, "the watch has a connection of its own"


async def test_a_server_restarted_stopped_or_hung_is_an_error_the_syncer_retries(
    tmp_path: Path,
) -> None:
    """A restart between two requests leaves a kept-alive connection the server closed: the
    next request goes on a new one. A stopped server refuses, a stopped (SIGSTOP) one times
    out with the request's `timeout=`, and both come back without a new client."""
    arguments = ["--clusters", "one", "--kubeconfig-dir", str(tmp_path / "kubeconfigs")]
    arguments += ["--data-dir", str(tmp_path / "data")]
    process = ServiceProcess("apiserver", arguments, log_path=tmp_path / "apiserver.log")
    ready = await asyncio.to_thread(process.start)
    try:
        kubeconfig = ready["kubeconfigs"]["one"]
        async with await KubeClient.from_kubeconfig(kubeconfig, share_connections=True) as client:
            await client.create(CONFIGMAPS, _config_map("before"))
            await _restarted(process, ready["url"])
            assert (await client.get(CONFIGMAPS, "before", "default"))["metadata"]["name"]

            await asyncio.to_thread(process.stop)
            with pytest.raises(UNREACHABLE) as refused:
                await client.get(CONFIGMAPS, "before", "default")
            assert isinstance(refused.value, ConnectionRefusedError)
            await _started(process, ready["url"])
            await client.create(CONFIGMAPS, _config_map("after"))

            process.signal(signal.SIGSTOP)
            try:
                started = time.monotonic()
                hung = client.request("GET", CONFIGMAPS.path("default", "after"), timeout=1.0)
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(hung, 10)
                assert time.monotonic() - started < 5, "the request hung past its timeout"
            finally:
                process.signal(signal.SIGCONT)
            assert await client.get_or_none(CONFIGMAPS, "after", "default") is not None
        async with await KubeClient.from_kubeconfig(ready["admin"]) as admin:
            assert "apiserver_request_total" in await admin.metrics()
    finally:
        await asyncio.to_thread(process.stop)


async def _restarted(process: ServiceProcess, url: str) -> None:
    await asyncio.to_thread(process.stop)
    await _started(process, url)


async def _started(process: ServiceProcess, url: str) -> None:
    assert (await asyncio.to_thread(process.start))["url"] == url, "the data dir keeps the port"


def _config_map(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": {},
    }
