"""The syncer's connection manager: keep one tunnel to the hub open for as long as it runs.

It dials, serves streams through a :class:`DownstreamForwarder`, and when the connection drops
it dials again after a capped exponential backoff with jitter (kcp's 5 s doubling to 5 min by
default; tests set milliseconds). Websocket pings with a timeout find a dead peer. On shutdown
it drains: the hub hears GOAWAY, takes no new requests here, and the open ones may finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
import ssl
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

from pytest_syncer.process.lifetime import Lifetime
from pytest_syncer.tunnel.auth import fingerprint
from pytest_syncer.tunnel.client import DownstreamForwarder
from pytest_syncer.tunnel.session import (
    DEFAULT_SYNC_INTERVAL,
    MAX_MESSAGE_SIZE,
    TunnelCounters,
    TunnelSession,
)
from pytest_syncer.tunnel.transports import WebsocketsTransport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff with jitter: ``initial * factor**n``, at most ``maximum``,
    each delay spread by +-``jitter`` (a fraction) so many syncers do not redial in step."""

    initial: float = 5.0
    maximum: float = 300.0
    factor: float = 2.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum:
            raise ValueError("backoff needs 0 < initial <= maximum")
        if self.factor < 1 or not 0 <= self.jitter < 1:
            raise ValueError("backoff needs factor >= 1 and 0 <= jitter < 1")

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        chooser = rng or random.Random()
        base = self.initial
        while True:
            spread = base * self.jitter
            yield min(self.maximum, base + chooser.uniform(-spread, spread))
            base = min(self.maximum, base * self.factor)


class TunnelState(enum.StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    BACKOFF = "backoff"
    DRAINING = "draining"
    STOPPED = "stopped"


@dataclass
class ManagerCounters:
    connects: int = 0
    reconnects: int = 0
    errors: int = 0
    refused: int = 0
    tunnel: TunnelCounters = field(default_factory=TunnelCounters)


class TunnelManager(Lifetime, start="_begin", stop="stop"):
    """Keeps the tunnel of one sync target up; an async context manager.

    ``token_file`` is read before every dial, so a rotated token is picked up on the next
    reconnect. ``ca_file`` is the hub's CA (``--tunnel-ca-file``).
    """

    def __init__(
        self,
        url: str,
        forwarder: DownstreamForwarder,
        *,
        token: str | None = None,
        token_file: Path | None = None,
        ca_file: Path | None = None,
        client_certificate: tuple[Path, Path] | None = None,
        backoff: Backoff | None = None,
        ping_interval: float = 20.0,
        ping_timeout: float = 20.0,
        open_timeout: float = 10.0,
        drain_timeout: float = 10.0,
        sync_interval: float = DEFAULT_SYNC_INTERVAL,
        name: str = "",
    ) -> None:
        if (token is None) == (token_file is None):
            raise ValueError("give exactly one of token and token_file")
        self.url = url
        self.forwarder = forwarder
        self.name = name or forwarder.target or url
        self.backoff = backoff or Backoff()
        self.counters = ManagerCounters()
        self.state = TunnelState.STOPPED
        self._token = token
        self._token_file = token_file
        self._ssl = _client_ssl_context(url, ca_file, client_certificate)
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._open_timeout = open_timeout
        self._drain_timeout = drain_timeout
        self._sync_interval = sync_interval
        self._stopping = asyncio.Event()
        self._connected = asyncio.Event()
        self._session: TunnelSession | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def health(self) -> dict[str, Any]:
        """State and counters, for a health endpoint or a log line."""
        session = self._session
        return {
            "state": self.state.value,
            "streams_open": session.open_streams if session is not None else 0,
            **{key: value for key, value in asdict(self.counters).items() if key != "tunnel"},
            **asdict(self.counters.tunnel),
        }

    async def wait_connected(self, timeout: float) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    def _begin(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self.run(), name=f"tunnel-manager {self.name}")

    async def stop(self) -> None:
        """Drain the current tunnel (open streams may finish) and stop redialling."""
        self._stopping.set()
        session = self._session
        if session is not None and not session.closed:
            self.state = TunnelState.DRAINING
            finished = await session.drain(self._drain_timeout)
            log.info("target=%s tunnel drained (all streams finished: %s)", self.name, finished)
        if self._task is not None:
            await self._task
            self._task = None
        self.state = TunnelState.STOPPED

    async def run(self) -> None:
        """Dial, serve, and redial until stopped."""
        delays = self.backoff.delays()
        while not self._stopping.is_set():
            self.state = TunnelState.CONNECTING
            if await self._connect_and_serve():
                delays = self.backoff.delays()
            if self._stopping.is_set():
                break
            delay = next(delays)
            self.state = TunnelState.BACKOFF
            log.info("target=%s tunnel redials in %.3fs", self.name, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
        self.state = TunnelState.STOPPED

    async def _connect_and_serve(self) -> bool:
        """One connection's life; returns whether it got connected at all."""
        token = ""
        try:
            token = self._read_token()
            async with connect(
                self.url,
                additional_headers={"Authorization": f"Bearer {token}"},
                ssl=self._ssl,
                compression=None,
                max_size=MAX_MESSAGE_SIZE,
                max_queue=64,
                write_limit=256 * 1024,
                ping_interval=self._ping_interval or None,
                ping_timeout=self._ping_timeout or None,
                open_timeout=self._open_timeout,
                close_timeout=2,
                proxy=None,
                user_agent_header="pytest-syncer-tunnel",
            ) as websocket:
                if self._stopping.is_set():
                    return True
                self.counters.connects += 1
                if self.counters.connects > 1:
                    self.counters.reconnects += 1
                session = TunnelSession(
                    WebsocketsTransport(websocket),
                    handler=self.forwarder.handle,
                    name=f"target={self.name}",
                    counters=self.counters.tunnel,
                    sync_interval=self._sync_interval,
                )
                self._session = session
                self.state = TunnelState.CONNECTED
                self._connected.set()
                log.info(
                    "target=%s tunnel connected to %s (token %s)",
                    self.name,
                    self.url,
                    fingerprint(token),
                )
                try:
                    await session.run()
                finally:
                    self._connected.clear()
                    self._session = None
                if not self._stopping.is_set():
                    self.counters.errors += 1
                    log.warning("target=%s tunnel connection lost", self.name)
                return True
        except InvalidStatus as error:
            self.counters.errors += 1
            self.counters.refused += 1
            log.warning(
                "target=%s the hub refused the tunnel (token %s): HTTP %d",
                self.name,
                fingerprint(token),
                error.response.status_code,
            )
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as error:
            self.counters.errors += 1
            log.warning("target=%s tunnel dial failed: %s", self.name, error or type(error))
        return False

    def _read_token(self) -> str:
        if self._token_file is not None:
            return self._token_file.read_text().strip()
        assert self._token is not None
        return self._token


def _client_ssl_context(
    url: str, ca_file: Path | None, client_certificate: tuple[Path, Path] | None
) -> ssl.SSLContext | None:
    if not url.startswith("wss://"):
        return None
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    if client_certificate is not None:
        context.load_cert_chain(*client_certificate)
    return context
