"""The hub's websocket adapter: a peer gone while aiohttp answers its PING is a closed tunnel.

aiohttp's `WebSocketResponse.receive` sends the PONG itself; when the connection is closing it
raises `ClientConnectionResetError` there. At 200 targets, with every tunnel cut at once by a
fault test, the hub logged that as "Error handling request" with a traceback.
"""

from __future__ import annotations

from typing import cast

import pytest
from aiohttp import web
from aiohttp.client_exceptions import ClientConnectionResetError

from pytest_syncer.tunnel.transports import AiohttpTransport


class _PeerGoneWhilePonging:
    async def receive(self) -> object:
        raise ClientConnectionResetError("Cannot write to closing transport")


async def test_a_peer_gone_while_its_ping_is_answered_reads_as_the_end_of_the_tunnel() -> None:
    websocket = cast(web.WebSocketResponse, _PeerGoneWhilePonging())
    assert await AiohttpTransport(websocket).receive() is None


class _Broken:
    async def receive(self) -> object:
        raise RuntimeError("not a connection error")


async def test_other_failures_still_raise() -> None:
    with pytest.raises(RuntimeError, match="not a connection error"):
        await AiohttpTransport(cast(web.WebSocketResponse, _Broken())).receive()
