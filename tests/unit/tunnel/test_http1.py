"""The lean HTTP/1.1 client (`http1/pool.py`: the forwarder's and KubeClient's) against real
servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from pytest_syncer.http1.pool import HTTP1Pool, HTTPError

from .conftest import serve


def app(peers: list[object]) -> web.Application:
    async def fixed(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        return web.Response(body=b"fixed body", headers={"X-Kind": "fixed"})

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for n in range(int(request.query.get("pieces", "3"))):
            await response.write(b"piece-%d;" % n)
        await response.write_eof()
        return response

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read(), status=201)

    async def empty(request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def closing(request: web.Request) -> web.Response:
        return web.Response(body=b"bye", headers={"Connection": "close"})

    application = web.Application()
    application.router.add_get("/base/fixed", fixed)
    application.router.add_get("/base/chunked", chunked)
    application.router.add_post("/base/echo", echo)
    application.router.add_get("/base/empty", empty)
    application.router.add_get("/base/closing", closing)
    return application


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[object]]]:
    peers: list[object] = []
    runner, url = await serve(app(peers))
    yield url + "/base", peers
    await runner.cleanup()


async def fetch(pool: HTTP1Pool, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    exchange = await pool.request(method, path, [("Accept", "*/*")], body)
    try:
        return exchange.head.status, b"".join([piece async for piece in exchange.body()])
    finally:
        exchange.release()


async def test_bodies_by_length_and_by_chunks(server: tuple[str, list[object]]) -> None:
    url, _ = server
    async with HTTP1Pool(url, False) as pool:
        assert await fetch(pool, "GET", "/fixed") == (200, b"fixed body")
        assert await fetch(pool, "GET", "/chunked?pieces=4") == (
            200,
            b"piece-0;piece-1;piece-2;piece-3;",
        )
        assert await fetch(pool, "POST", "/echo", b"x" * 200_000) == (201, b"x" * 200_000)
        assert await fetch(pool, "GET", "/empty") == (204, b"")
        assert await fetch(pool, "HEAD", "/fixed") == (200, b"")
        assert await fetch(pool, "GET", "/fixed") == (200, b"fixed body")


async def test_connections_are_kept_alive_unless_the_server_closes(
    server: tuple[str, list[object]],
) -> None:
    url, peers = server
    async with HTTP1Pool(url, False) as pool:
        for _ in range(3):
            await fetch(pool, "GET", "/fixed")
        assert len(set(peers)) == 1
        assert await fetch(pool, "GET", "/closing") == (200, b"bye")
        await fetch(pool, "GET", "/fixed")
        assert len(set(peers)) == 2


async def test_a_stale_kept_alive_connection_is_replaced(server: tuple[str, list[object]]) -> None:
    url, peers = server
    async with HTTP1Pool(url, False) as pool:
        await fetch(pool, "GET", "/fixed")
        for connection in pool._idle:
            connection.writer.transport.abort()
        assert await fetch(pool, "GET", "/fixed") == (200, b"fixed body")
        assert len(set(peers)) == 2


async def test_an_abandoned_body_closes_its_connection_and_frees_its_slot(
    server: tuple[str, list[object]],
) -> None:
    url, _ = server
    async with HTTP1Pool(url, False, limit=1) as pool:
        exchange = await pool.request("GET", "/chunked?pieces=100", [])
        async for _ in exchange.body():
            break
        exchange.release()
        assert pool._idle == []
        assert await asyncio.wait_for(fetch(pool, "GET", "/fixed"), 5) == (200, b"fixed body")


async def test_line_breaks_cannot_smuggle_headers(server: tuple[str, list[object]]) -> None:
    url, _ = server
    async with HTTP1Pool(url, False) as pool:
        with pytest.raises(ValueError, match="header value"):
            await pool.request("GET", "/fixed", [("X", "a\r\nInjected: yes")])
        with pytest.raises(ValueError, match="path"):
            await pool.request("GET", "/fixed HTTP/1.1\r\nX: y", [])
        assert await fetch(pool, "GET", "/fixed") == (200, b"fixed body")


async def raw_server(answer: bytes) -> tuple[asyncio.Server, str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def test_a_body_until_close_and_garbage_answers() -> None:
    server, url = await raw_server(b"HTTP/1.0 200 OK\r\nX: y\r\n\r\nuntil the end")
    async with server, HTTP1Pool(url, False) as pool:
        assert await fetch(pool, "GET", "/") == (200, b"until the end")
    server, url = await raw_server(b"SSH-2.0-OpenSSH\r\n\r\n")
    async with server, HTTP1Pool(url, False) as pool:
        with pytest.raises(HTTPError, match="not an HTTP"):
            await pool.request("GET", "/", [])
    server, url = await raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
    async with server, HTTP1Pool(url, False) as pool:
        exchange = await pool.request("GET", "/", [])
        with pytest.raises(HTTPError, match="inside the response body"):
            async for _ in exchange.body():
                pass
        exchange.release()


async def test_read_returns_whole_bodies_and_keeps_the_connection(
    server: tuple[str, list[object]],
) -> None:
    url, peers = server
    async with HTTP1Pool(url, False) as pool:
        for path, body in [("/fixed", b"fixed body"), ("/chunked?pieces=2", b"piece-0;piece-1;")]:
            exchange = await pool.request("GET", path, [])
            assert await exchange.read() == body
            exchange.release()
        assert len(pool._idle) == 1
        assert len(set(peers)) == 1


async def scripted_server(
    scripts: list[list[bytes | None]],
) -> tuple[asyncio.Server, str, list[tuple[int, bytes]]]:
    """Connection ``i`` answers its requests with ``scripts[i]`` in turn; ``None`` closes the
    connection on receiving that request, without a byte of answer. Requests are recorded as
    (connection, request line)."""
    received: list[tuple[int, bytes]] = []
    connections = iter(range(len(scripts)))

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = next(connections)
        for answer in scripts[index]:
            head = await reader.readuntil(b"\r\n\r\n")
            received.append((index, head.split(b"\r\n", 1)[0]))
            if answer is None:
                break
            writer.write(answer)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", received


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def test_a_request_the_server_dropped_unanswered_is_sent_once_more() -> None:
    """The keep-alive race: the server closes an idle connection as a request arrives on it.
    No byte of an answer came, so nothing was processed and the request goes on a new one."""
    server, url, received = await scripted_server([[OK, None], [OK]])
    async with server, HTTP1Pool(url, False) as pool:
        assert await fetch(pool, "GET", "/first") == (200, b"ok")
        assert await fetch(pool, "POST", "/second") == (200, b"ok")
    assert received == [
        (0, b"GET /first HTTP/1.1"),
        (0, b"POST /second HTTP/1.1"),
        (1, b"POST /second HTTP/1.1"),
    ]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-", "mid-answer"),
        (b"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP"),
    ],
)
async def test_a_request_the_server_began_to_answer_is_not_sent_again(
    answer: bytes, message: str
) -> None:
    """Part of an answer (or garbage) means the server read the request: sending it again
    could apply a write twice. The error is an OSError, as callers expect of a broken server."""
    server, url, received = await scripted_server([[OK, answer], [OK]])
    async with server, HTTP1Pool(url, False) as pool:
        await fetch(pool, "GET", "/first")
        with pytest.raises(HTTPError, match=message) as error:
            await pool.request("POST", "/second", [])
        assert isinstance(error.value, OSError)
    assert received == [(0, b"GET /first HTTP/1.1"), (0, b"POST /second HTTP/1.1")]


async def test_a_chunked_body_cut_off_is_an_http_error() -> None:
    cut = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"
    server, url, _ = await scripted_server([[cut]])
    async with server, HTTP1Pool(url, False) as pool:
        exchange = await pool.request("GET", "/", [])
        with pytest.raises(HTTPError, match="closed"):
            await exchange.read()
        exchange.release()


CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


@pytest.mark.parametrize(("after", "kept"), [(b"", True), (b"HTTP/1.1 200 OK\r\n", False)])
async def test_chunk_extensions_and_trailers_are_read_past(after: bytes, kept: bool) -> None:
    """RFC 9112 7.1.1/7.1.2: extensions and trailer fields are dropped, and the connection is
    kept for the next request, unless the server wrote past the body's end."""
    answer = CHUNKED + b"3;ext=1\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n" + after
    server, url, received = await scripted_server([[answer, OK], [OK]])
    async with server, HTTP1Pool(url, False) as pool:
        assert await fetch(pool, "GET", "/first") == (200, b"abc")
        assert await fetch(pool, "GET", "/second") == (200, b"ok")
    assert received[1] == ((0 if kept else 1), b"GET /second HTTP/1.1")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"zz\r\n", "bad chunk size line"),
        (b"3\r\nabcXY", "chunk not followed by CRLF"),
        (b"1" * 70_000, "chunk size line too long"),
        (b"3\r\nabc\r\n", "connection closed inside a chunk"),
    ],
)
async def test_bad_chunked_framing_is_an_http_error(body: bytes, message: str) -> None:
    server, url, _ = await scripted_server([[CHUNKED + body]])
    async with server, HTTP1Pool(url, False) as pool:
        exchange = await pool.request("GET", "/", [])
        with pytest.raises(HTTPError, match=message):
            async for _ in exchange.body():
                pass
        exchange.release()
        assert pool._idle == []
