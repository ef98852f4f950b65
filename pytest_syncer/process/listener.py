"""A listening socket that takes every waiting connection each time it is readable, on any loop.

asyncio's selector loop accepts up to the backlog per readiness; uvloop's servers accept one
connection per loop iteration (libuv 1.45 and later: "unix: don't accept() connections in a
loop", libuv pull request 3696). Under load an iteration of a busy server lasts tens of
milliseconds, so the two hundred connections the syncer pools open at once at the start of a
load waited seconds in the kernel's accept queue (`ss -ltn` showed 178 there, drained over
3 s). A `Listener` accepts them all at once on either loop and hands
each to the loop as an accepted socket, with TLS when the server speaks it.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl
from collections.abc import Callable

from aiohttp import web

from pytest_syncer.process.child import LISTEN_BACKLOG

log = logging.getLogger(__name__)

ACCEPT_RETRY_DELAY = 1.0
"""Seconds to stop accepting after the process ran out of file descriptors (asyncio's own
pause for the same case)."""

RESOURCE_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})

ProtocolFactory = Callable[[], asyncio.BaseProtocol]


class Listener(asyncio.AbstractServer):
    """One listening socket; each accepted connection becomes a transport of the running loop."""

    def __init__(
        self,
        sock: socket.socket,
        protocol_factory: ProtocolFactory,
        ssl_context: ssl.SSLContext | None,
        backlog: int,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._sock = sock
        self._protocol_factory = protocol_factory
        self._ssl = ssl_context
        self._backlog = backlog
        self._handshakes: set[asyncio.Task[None]] = set()
        self._serving = False
        self._closed = asyncio.Event()

    @classmethod
    def open(
        cls,
        protocol_factory: ProtocolFactory,
        host: str | None,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None = None,
        backlog: int = LISTEN_BACKLOG,
    ) -> Listener:
        """Bind (with SO_REUSEADDR, as asyncio's servers on POSIX), listen and start accepting;
        a host of None or "" is every IPv4 address."""
        sock = socket.socket(socket.AF_INET6 if host and ":" in host else socket.AF_INET)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host or "0.0.0.0", port))
            sock.listen(backlog)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        listener = cls(sock, protocol_factory, ssl_context, backlog)
        listener._start()
        return listener

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return () if self._sock.fileno() == -1 else (self._sock,)

    def _start(self) -> None:
        self._serving = True
        self._resume()

    def _accept_waiting(self) -> None:
        for _ in range(self._backlog):
            try:
                connection, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as error:
                if error.errno not in RESOURCE_ERRORS:
                    raise
                log.error(
                    "accepting a connection failed (%s); accepting again in %ss",
                    error,
                    ACCEPT_RETRY_DELAY,
                )
                self._loop.remove_reader(self._sock.fileno())
                self._loop.call_later(ACCEPT_RETRY_DELAY, self._resume)
                return
            connection.setblocking(False)
            handshake = self._loop.create_task(self._connect(connection))
            self._handshakes.add(handshake)
            handshake.add_done_callback(self._handshakes.discard)

    def _resume(self) -> None:
        if self._serving:
            self._loop.add_reader(self._sock.fileno(), self._accept_waiting)

    async def _connect(self, connection: socket.socket) -> None:
        """The TLS handshake, if any, then the protocol; a client that fails it is dropped
        (as a server's own accept drops it), the others are served."""
        try:
            await self._loop.connect_accepted_socket(
                self._protocol_factory, connection, ssl=self._ssl
            )
        except (OSError, ssl.SSLError, TimeoutError) as error:
            log.debug("a connection closed before it was served: %s", error)
            connection.close()

    def close(self) -> None:
        if self._serving:
            self._loop.remove_reader(self._sock.fileno())
            self._serving = False
        self._sock.close()
        for handshake in self._handshakes:
            handshake.cancel()
        self._closed.set()

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def is_serving(self) -> bool:
        return self._serving

    async def start_serving(self) -> None:
        """It serves from `open` on."""

    async def serve_forever(self) -> None:
        await self._closed.wait()

    async def wait_closed(self) -> None:
        await self._closed.wait()


class ListenerSite(web.BaseSite):
    """aiohttp's `TCPSite` on a `Listener`."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str | None,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(runner, ssl_context=ssl_context, backlog=LISTEN_BACKLOG)
        self._host = host
        self._port = port

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://{self._host or '0.0.0.0'}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        self._server = Listener.open(
            server, self._host, self._port, ssl_context=self._ssl_context, backlog=self._backlog
        )
