"""The two websocket libraries behind :class:`~pytest_syncer.tunnel.session.MessageTransport`.

The hub accepts tunnels with aiohttp (one port for the tunnel and the proxy); the syncer
dials with ``websockets``' asyncio client. Both are set up without compression and with a
message limit above the session's batches.
"""

from __future__ import annotations

import aiohttp
from aiohttp import web
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from pytest_syncer.tunnel.protocol import ProtocolError


class AiohttpTransport:
    """The hub's end: an aiohttp server-side websocket."""

    def __init__(self, websocket: web.WebSocketResponse) -> None:
        self._websocket = websocket

    async def send(self, message: bytes) -> None:
        await self._websocket.send_bytes(message)

    async def receive(self) -> bytes | None:
        try:
            message = await self._websocket.receive()
        except ConnectionResetError:
            # aiohttp answers a PING as it reads it; a peer gone meanwhile fails that answer
            # (`ClientConnectionResetError`), which is the connection closing, not an error.
            return None
        if message.type is aiohttp.WSMsgType.BINARY:
            data: bytes = message.data
            return data
        if message.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSING,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.ERROR,
        ):
            return None
        raise ProtocolError(f"unexpected websocket message of type {message.type.name}")

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._websocket.close(code=code, message=reason.encode())


class WebsocketsTransport:
    """The syncer's end: a ``websockets`` client connection."""

    def __init__(self, connection: ClientConnection) -> None:
        self._connection = connection

    async def send(self, message: bytes) -> None:
        try:
            await self._connection.send(message)
        except ConnectionClosed as error:
            raise ConnectionResetError(str(error)) from None

    async def receive(self) -> bytes | None:
        try:
            message = await self._connection.recv()
        except ConnectionClosed:
            return None
        if isinstance(message, str):
            raise ProtocolError("unexpected text message")
        return message

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._connection.close(code, reason)
