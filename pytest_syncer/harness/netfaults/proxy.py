"""A byte-level TCP proxy per link, on one asyncio loop in a background thread of the harness.

The harness is synchronous, so `FaultProxy` runs the loop on a thread and `Link` is the handle a
test calls; every change to a link is made on the loop's thread. TLS passes through untouched:
the proxy only moves bytes, the syncer still verifies the real server's certificate.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from pytest_syncer.harness.netfaults.links import Direction, LinkModel, Which
from pytest_syncer.process.child import LISTEN_BACKLOG

log = logging.getLogger(__name__)

T = TypeVar("T")
CHUNK = 64 * 1024
QUEUED_CHUNKS = 16
"""Chunks in flight per direction before the proxy stops reading: latency keeps throughput,
and a bandwidth limit pushes back on the sender as a slow link does."""
CONNECT_TIMEOUT = 10.0
CALL_TIMEOUT = 30.0
HISTORY = 1000
"""Connections a link remembers (`Link.history`)."""


class _End(enum.Enum):
    EOF = "eof"
    RESET = "reset"


@dataclass
class ConnectionRecord:
    """When one connection of a link was opened, and when each end closed it (FIN or RST),
    on `time.monotonic()`: seen by the proxy even when a blackhole keeps it from the other end."""

    opened: float
    syncer_closed: float | None = None
    peer_closed: float | None = None
    proxy_closed: float | None = None
    """When the proxy closed or reset it (both ends done, `reset`, `heal`, `close`)."""

    @property
    def open(self) -> bool:
        return self.syncer_closed is None and self.peer_closed is None and not self.proxy_closed


def send_reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST instead of FIN: SO_LINGER 0, then drop the socket unflushed."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class Connection:
    """One proxied connection: the syncer's end, the peer's end, a pump per direction."""

    def __init__(
        self,
        model: LinkModel,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        server: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    ) -> None:
        self.model = model
        self.client = client
        self.server = server
        self.record = ConnectionRecord(time.monotonic())
        self.damaged = False
        """Bytes, a FIN or an RST were swallowed by a blackhole: the stream cannot resume, so
        the connection is held open (no FIN) until heal resets it."""

    async def run(self) -> None:
        await asyncio.gather(
            self._pump("out", self.client[0], self.server[1]),
            self._pump("in", self.server[0], self.client[1]),
        )
        if not self.damaged:
            self.close()

    def reset(self) -> None:
        """RST both ends."""
        self.record.proxy_closed = time.monotonic()
        send_reset(self.client[1])
        send_reset(self.server[1])

    def close(self) -> None:
        self.record.proxy_closed = time.monotonic()
        self.client[1].close()
        self.server[1].close()

    async def _pump(
        self, direction: Direction, source: asyncio.StreamReader, sink: asyncio.StreamWriter
    ) -> None:
        queue: asyncio.Queue[tuple[float, bytes | _End]] = asyncio.Queue(QUEUED_CHUNKS)
        delivery = asyncio.create_task(self._deliver(direction, queue, sink))
        loop = asyncio.get_running_loop()
        after = 0.0
        try:
            while not delivery.done():
                item: bytes | _End
                try:
                    item = await source.read(CHUNK) or _End.EOF
                except OSError:
                    item = _End.RESET
                if not isinstance(item, bytes):
                    if direction == "out":
                        self.record.syncer_closed = time.monotonic()
                    else:
                        self.record.peer_closed = time.monotonic()
                if self.model.blackholed(direction):
                    self.damaged = True
                    if isinstance(item, bytes):
                        continue
                    break
                size = len(item) if isinstance(item, bytes) else 0
                after = self.model.deliver_at(direction, loop.time(), size, after)
                await queue.put((after, item))
                if not isinstance(item, bytes):
                    break
            await delivery
        finally:
            delivery.cancel()

    async def _deliver(
        self,
        direction: Direction,
        queue: asyncio.Queue[tuple[float, bytes | _End]],
        sink: asyncio.StreamWriter,
    ) -> None:
        loop = asyncio.get_running_loop()
        while True:
            at, item = await queue.get()
            wait = at - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if self.model.blackholed(direction):
                self.damaged = True
                if isinstance(item, bytes):
                    continue
                return
            try:
                if item is _End.EOF:
                    if sink.can_write_eof():
                        sink.write_eof()
                    return
                if item is _End.RESET:
                    send_reset(sink)
                    return
                sink.write(item)
                await sink.drain()
            except OSError:
                return


class LinkProxy:
    """The listening socket of one link and its open connections (lives on the loop)."""

    def __init__(self, model: LinkModel, peer: tuple[str, int]) -> None:
        self.model = model
        self.peer = peer
        self.connections: dict[Connection, asyncio.Task[None] | None] = {}
        self.accepted = 0
        self.history: deque[ConnectionRecord] = deque(maxlen=HISTORY)
        self._server: asyncio.Server | None = None

    async def start(self) -> tuple[str, int]:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", 0, backlog=LISTEN_BACKLOG
        )
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.model.refusing:
            send_reset(writer)
            return
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                server = await asyncio.open_connection(*self.peer)
        except (OSError, TimeoutError) as error:
            log.info("%s: peer %s:%d unreachable (%s)", self.model.name, *self.peer, error)
            send_reset(writer)
            return
        connection = Connection(self.model, (reader, writer), server)
        if self.model.refusing:
            connection.reset()
            return
        self.history.append(connection.record)
        self.connections[connection] = asyncio.current_task()
        try:
            await connection.run()
        except asyncio.CancelledError:
            pass
        finally:
            if connection in self.connections:
                if connection.damaged:
                    self.connections[connection] = None
                else:
                    del self.connections[connection]

    def reset(self) -> None:
        """RST every open connection, and every new one until `heal`."""
        self.model.refusing = True
        self._drop(list(self.connections))

    def heal(self) -> None:
        """Pass everything again; connections that lost bytes to a blackhole are reset (their
        streams cannot resume, as a middlebox that lost its state answers with RST)."""
        self.model.heal()
        self._drop([connection for connection in self.connections if connection.damaged])

    def _drop(self, connections: list[Connection]) -> None:
        for connection in connections:
            task = self.connections.pop(connection, None)
            connection.reset()
            if task is not None:
                task.cancel()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            connection.close()
        tasks = [task for task in self.connections.values() if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.connections.clear()
        if self._server is not None:
            await self._server.wait_closed()


class Link:
    """A test's handle on one link: every call takes effect on the proxy before it returns.

    `latency` and `jitter` are in milliseconds; `direction` is `out` (syncer to peer), `in` or
    `both` (the default).
    """

    def __init__(self, proxy: FaultProxy, link: LinkProxy, address: tuple[str, int]) -> None:
        self.name = link.model.name
        self.address = address
        """Where the syncer connects: the proxy's loopback port."""
        self.peer = link.peer
        self._proxy = proxy
        self._link = link

    def latency(self, ms: float, jitter: float = 0.0, direction: Which = "both") -> None:
        self._proxy.call(lambda: self._link.model.latency(ms / 1000, jitter / 1000, direction))
        self._proxy.record("latency")

    def bandwidth(self, bytes_per_s: float, direction: Which = "both") -> None:
        self._proxy.call(lambda: self._link.model.bandwidth(bytes_per_s, direction))
        self._proxy.record("bandwidth")

    def blackhole(self, direction: Which = "both") -> None:
        self._proxy.call(lambda: self._link.model.blackhole(direction))
        self._proxy.record("blackhole")

    def reset(self) -> None:
        self._proxy.call(self._link.reset)
        self._proxy.record("reset")

    def heal(self) -> None:
        self._proxy.call(self._link.heal)

    @property
    def connections(self) -> int:
        """Connections the proxy holds open on this link now."""
        return self._proxy.call(lambda: len(self._link.connections))

    @property
    def accepted(self) -> int:
        """Connections the syncer opened on this link so far."""
        return self._proxy.call(lambda: self._link.accepted)

    def history(self) -> list[ConnectionRecord]:
        """The link's connections, oldest first (the last 1000), as they are now."""
        return self._proxy.call(lambda: [replace(record) for record in self._link.history])

    def describe(self) -> str:
        """What the link does now: `passes`, `out: blackhole; in: latency 0.2s+0s`, ..."""
        return self._proxy.call(self._link.model.describe)


class FaultProxy:
    """The asyncio loop, on a thread of its own, that serves every link; `close` stops it."""

    def __init__(
        self,
        seed: int,
        record: Callable[[str], None] = lambda kind: None,
        baseline: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        self.seed = seed
        self.record = record
        """Told the kind of every fault a link takes (`latency`, `blackhole`, ...)."""
        self.baseline = baseline
        """Latency and jitter in milliseconds every link has when healthy."""
        self.links: dict[str, Link] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="netfaults-proxy", daemon=True
        )
        self._thread.start()

    def call(self, function: Callable[[], T]) -> T:
        """Run `function` on the loop's thread and return its result."""

        async def run() -> T:
            return function()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(CALL_TIMEOUT)

    def open(self, name: str, peer: tuple[str, int]) -> Link:
        """Listen on a loopback port for link `name`, forwarding to `peer`."""
        if name in self.links:
            raise ValueError(f"link {name!r} is open already")
        latency, jitter = self.baseline
        proxy = LinkProxy(LinkModel(name, self.seed, (latency / 1000, jitter / 1000)), peer)
        address = asyncio.run_coroutine_threadsafe(proxy.start(), self._loop).result(CALL_TIMEOUT)
        self.links[name] = Link(self, proxy, address)
        return self.links[name]

    def heal(self) -> None:
        for link in self.links.values():
            link.heal()

    def close(self) -> None:
        """Stop every link and the loop, and join the thread."""
        if not self._thread.is_alive():
            return
        links = [link._link for link in self.links.values()]

        async def stop() -> None:
            await asyncio.gather(*(link.stop() for link in links))

        try:
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(CALL_TIMEOUT)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()
