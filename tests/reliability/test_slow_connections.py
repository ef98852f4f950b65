"""Half-open and slowloris clients of the hub and the API server: the servers keep serving
everyone else, and close a connection that has not sent a whole request head within their
header timeout (aiohttp's default keeps it for an hour)."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

import aiohttp
import pytest

from .conftest import HEADER_TIMEOUT, Servers

pytestmark = pytest.mark.syncer_e2e

CUT_OFF_WITHIN = HEADER_TIMEOUT + 20.0
"""A generous deadline for the server to close a slow connection (the machine is shared)."""
SLOW_HEAD = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n"


async def served(servers: Servers, which: str) -> int:
    """The status of an ordinary request from a well-behaved client."""
    base = servers.url(which)
    endpoint = servers.upstream
    path, headers = "/healthz", {}
    if which == "apiserver":
        path = "/clusters/upstream/api/v1/namespaces"
        headers = {"Authorization": endpoint.authorization or ""}
    connector = aiohttp.TCPConnector(ssl=servers.ssl_context(which))
    async with (
        aiohttp.ClientSession(connector=connector) as http,
        http.get(base + path, headers=headers) as response,
    ):
        return response.status


async def trickle(writer: asyncio.StreamWriter) -> None:
    """A slowloris: the start of a request head, then one more header every 0.3 s, forever."""
    writer.write(SLOW_HEAD)
    with contextlib.suppress(ConnectionError, RuntimeError):
        for serial in range(10_000):
            await writer.drain()
            await asyncio.sleep(0.3)
            if writer.is_closing():
                return
            writer.write(f"X-Slow-{serial}: x\r\n".encode())


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    """True once the server hangs up (EOF or reset), False if it still holds the connection
    at the deadline."""
    try:
        async with asyncio.timeout(CUT_OFF_WITHIN):
            while await reader.read(65536):
                pass
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return True


@pytest.mark.parametrize("which", ["hub", "apiserver"])
async def test_slow_and_half_open_clients_are_cut_off_while_others_are_served(
    servers: Servers, which: str
) -> None:
    address = urlsplit(servers.url(which))
    host, port = address.hostname, address.port
    context = servers.ssl_context(which)
    assert await served(servers, which) == 200
    opened: list[asyncio.StreamWriter] = []
    try:
        # Half-open: a TCP connection that never starts TLS.
        for _ in range(20):
            opened.append((await asyncio.open_connection(host, port))[1])
        # TLS done, not a byte of HTTP.
        silent = [await asyncio.open_connection(host, port, ssl=context) for _ in range(5)]
        # Slowloris: a request head that never ends.
        slow = [await asyncio.open_connection(host, port, ssl=context) for _ in range(5)]
        opened += [writer for _, writer in (*silent, *slow)]
        trickles = [asyncio.create_task(trickle(writer)) for _, writer in slow]

        assert [await served(servers, which) for _ in range(3)] == [200, 200, 200]
        cut_off = await asyncio.gather(*(closed_by_server(r) for r, _ in (*silent, *slow)))
        assert cut_off == [True] * 10, (
            f"{which} kept {cut_off.count(False)} of 10 connections without a whole request "
            f"head open for {CUT_OFF_WITHIN:g}s (header timeout {HEADER_TIMEOUT:g}s)"
        )
        for task in trickles:
            task.cancel()
        assert await served(servers, which) == 200
    finally:
        for writer in opened:
            writer.close()
