"""Independent streams multiplexed over one websocket: the tunnel's session layer.

The read loop never waits on a stream: every stream has its own credit window and a receive
buffer that the window bounds, so a stalled reader only stops its own sender (the peer runs
out of credit for that stream) and every other stream keeps flowing. remotedialer's stuck
Pause (rancher/remotedialer: Pause above 2 MiB buffered, which a slow reader can leave stuck)
and konnectivity's single-queue stall (apiserver-network-proxy issues #180, #881: one gRPC
stream without flow control, so one slow receiver stalls the whole tunnel) are what this avoids.
Outgoing frames of all streams are coalesced into as few websocket messages as possible.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from pytest_syncer.tunnel.protocol import (
    INITIAL_WINDOW,
    MAX_DATA_CHUNK,
    MAX_STREAM_ID,
    Data,
    End,
    ErrorCode,
    Frame,
    FrameDecoder,
    GoAway,
    Headers,
    Open,
    ProtocolError,
    Reset,
    Response,
    Sync,
    WindowUpdate,
    encode,
)

log = logging.getLogger(__name__)

#: Outgoing frames are joined into messages of about this size.
BATCH_BYTES = 256 * 1024
#: Largest websocket message either side accepts (a batch plus one maximal frame).
MAX_MESSAGE_SIZE = 4 * 1024 * 1024
DEFAULT_MAX_STREAMS = 4096
DEFAULT_SYNC_INTERVAL = 30.0


class MessageTransport(Protocol):
    """A websocket, seen as binary messages in and out."""

    async def send(self, message: bytes) -> None: ...

    async def receive(self) -> bytes | None:
        """The next binary message, or None once the connection is closed."""

    async def close(self, code: int = 1000, reason: str = "") -> None: ...


class StreamReset(Exception):
    """The stream was reset by either side, or the tunnel under it went away."""

    def __init__(self, code: ErrorCode, reason: str) -> None:
        super().__init__(f"{code.name}: {reason}" if reason else code.name)
        self.code = code
        self.reason = reason


class TunnelClosed(Exception):
    """The session opens no new streams: it is closed or going away."""


@dataclass
class TunnelCounters:
    """Running totals; one instance may be shared by the successive sessions of a manager."""

    streams_opened: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    stream_errors: int = 0
    protocol_errors: int = 0


@dataclass(frozen=True, slots=True)
class ResponseHead:
    status: int
    headers: Headers


class TunnelStream:
    """One request/response exchange. Reads drain a buffer the credit window bounds; writes
    wait for credit, so the peer's buffer for this stream is bounded too."""

    __slots__ = (
        "_buffered",
        "_chunks",
        "_consumed",
        "_credit",
        "_credit_waiter",
        "_local_done",
        "_read_waiter",
        "_remote_done",
        "_reset",
        "_response",
        "_response_sent",
        "_session",
        "request",
        "stream_id",
    )

    def __init__(self, session: TunnelSession, stream_id: int, request: Open | None) -> None:
        self._session = session
        self.stream_id = stream_id
        self.request = request
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._consumed = 0
        self._credit = INITIAL_WINDOW
        self._credit_waiter: asyncio.Future[None] | None = None
        self._read_waiter: asyncio.Future[None] | None = None
        self._remote_done = request is not None and request.end_stream
        self._local_done = False
        self._reset: StreamReset | None = None
        self._response: asyncio.Future[ResponseHead] | None = None
        self._response_sent = False
        if request is None:
            self._response = session.loop.create_future()

    @property
    def buffered(self) -> int:
        """Bytes received and not yet read; the credit window bounds it."""
        return self._buffered

    @property
    def response_sent(self) -> bool:
        return self._response_sent

    @property
    def finished(self) -> bool:
        return self._reset is not None or (self._local_done and self._remote_done)

    def response(self) -> asyncio.Future[ResponseHead]:
        """The response head to await (opener side); raises StreamReset if the stream dies
        first. A plain future, so waiting on it with a deadline costs no task."""
        if self._response is None:
            raise RuntimeError("only the side that opened a stream receives its response")
        return self._response

    def take_complete_body(self) -> bytes | None:
        """The whole body if the peer already sent all of it, else None (nothing taken)."""
        if not self._remote_done or self._reset is not None:
            return None
        body = b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        return body

    async def read(self) -> bytes:
        """The next chunk of the peer's body; b"" once the peer ended its side."""
        while not self._chunks:
            if self._remote_done:
                return b""
            if self._reset is not None:
                raise self._reset
            self._read_waiter = self._session.loop.create_future()
            try:
                await self._read_waiter
            finally:
                self._read_waiter = None
        chunk = self._chunks.popleft()
        self._buffered -= len(chunk)
        if not self._remote_done:
            self._consumed += len(chunk)
            if self._consumed >= INITIAL_WINDOW // 2:
                self._session._send(WindowUpdate(self.stream_id, self._consumed))
                self._consumed = 0
        return chunk

    def send_response(self, status: int, headers: Headers, *, end_stream: bool = False) -> None:
        """The response head (accepting side)."""
        self._check_writable()
        if self._response_sent:
            raise RuntimeError(f"stream {self.stream_id} already has its response")
        self._response_sent = True
        self._session._send(Response(self.stream_id, status, headers, end_stream))
        if end_stream:
            self._finish_local()

    async def write(self, data: bytes, *, end_stream: bool = False) -> None:
        """Send body bytes, waiting for credit; ``end_stream`` ends our side with the last one."""
        self._check_writable()
        view = memoryview(data)
        while view:
            while self._credit <= 0:
                if self._reset is not None:
                    raise self._reset
                self._credit_waiter = self._session.loop.create_future()
                try:
                    await self._credit_waiter
                finally:
                    self._credit_waiter = None
            self._check_writable()
            size = min(len(view), self._credit, MAX_DATA_CHUNK)
            chunk, view = view[:size], view[size:]
            self._credit -= size
            last = end_stream and not view
            self._session._send(Data(self.stream_id, bytes(chunk), last))
            if last:
                self._finish_local()
                return
        if end_stream:
            self.end()

    def end(self) -> None:
        """End our side of the stream."""
        if self._local_done or self._reset is not None:
            return
        self._session._send(End(self.stream_id))
        self._finish_local()

    def reset(self, code: ErrorCode, reason: str = "") -> None:
        """Abort the stream both ways and tell the peer."""
        if self._reset is not None:
            return
        if not (self._local_done and self._remote_done):
            self._session._send(Reset(self.stream_id, code, reason))
        self._on_reset(code, reason)

    def _check_writable(self) -> None:
        if self._reset is not None:
            raise self._reset
        if self._local_done:
            raise RuntimeError(f"stream {self.stream_id} already ended")

    def _finish_local(self) -> None:
        self._local_done = True
        if self._remote_done:
            self._session._forget(self)

    def _on_response(self, frame: Response) -> None:
        if self._response is None or self._response.done():
            raise ProtocolError(f"unexpected RESPONSE on stream {self.stream_id}")
        self._response.set_result(ResponseHead(frame.status, frame.headers))
        if frame.end_stream:
            self._on_remote_end()

    def _on_data(self, data: bytes) -> None:
        if self._remote_done:
            raise ProtocolError(f"DATA after the end of stream {self.stream_id}")
        if self._buffered + len(data) > INITIAL_WINDOW:
            self.reset(ErrorCode.FLOW_CONTROL, "peer sent beyond its credit")
            return
        if data:
            self._chunks.append(data)
            self._buffered += len(data)
        self._wake_reader()

    def _on_remote_end(self) -> None:
        self._remote_done = True
        self._wake_reader()
        if self._local_done:
            self._session._forget(self)

    def _on_credit(self, increment: int) -> None:
        self._credit += increment
        if self._credit_waiter is not None and not self._credit_waiter.done():
            self._credit_waiter.set_result(None)

    def _on_reset(self, code: ErrorCode, reason: str) -> None:
        if self._reset is not None:
            return
        self._reset = StreamReset(code, reason)
        if self._response is not None and not self._response.done():
            self._response.set_exception(self._reset)
            # Nobody may be awaiting it; retrieving marks the exception as seen.
            self._response.exception()
        self._wake_reader()
        if self._credit_waiter is not None and not self._credit_waiter.done():
            self._credit_waiter.set_result(None)
        self._session._forget(self)

    def _wake_reader(self) -> None:
        if self._read_waiter is not None and not self._read_waiter.done():
            self._read_waiter.set_result(None)


StreamHandler = Callable[[TunnelStream], Awaitable[None]]


class TunnelSession:
    """Both ends of the tunnel run one of these over their websocket.

    The hub's side opens streams (``open_stream``); the syncer's side accepts them and runs
    ``handler`` for each. ``run`` reads until the websocket closes, then resets every stream
    still open so nobody waits on a dead tunnel.
    """

    def __init__(
        self,
        transport: MessageTransport,
        *,
        handler: StreamHandler | None = None,
        name: str = "tunnel",
        counters: TunnelCounters | None = None,
        max_streams: int = DEFAULT_MAX_STREAMS,
        sync_interval: float = DEFAULT_SYNC_INTERVAL,
        decoder: FrameDecoder | None = None,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.name = name
        self.counters = counters if counters is not None else TunnelCounters()
        self._transport = transport
        self._handler = handler
        self._max_streams = max_streams
        self._sync_interval = sync_interval
        self._decoder = decoder or FrameDecoder()
        self._streams: dict[int, TunnelStream] = {}
        self._handlers: dict[int, asyncio.Task[None]] = {}
        self._high_water = 0
        self._outgoing: deque[bytes] = deque()
        self._outgoing_ready = asyncio.Event()
        self._closed = asyncio.Event()
        self._going_away = False
        self._peer_going_away = False
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def open_streams(self) -> int:
        return len(self._streams)

    @property
    def accepting(self) -> bool:
        """Whether new streams may be opened on this session."""
        return not (self._closed.is_set() or self._going_away or self._peer_going_away)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def stream(self, stream_id: int) -> TunnelStream | None:
        return self._streams.get(stream_id)

    def open_stream(
        self, method: str, path: str, headers: Headers, *, end_stream: bool = False
    ) -> TunnelStream:
        """Open a stream with its request head; body bytes follow with ``write``."""
        if not self.accepting:
            raise TunnelClosed(f"{self.name} opens no new streams")
        if len(self._streams) >= self._max_streams:
            raise TunnelClosed(f"{self.name} has {len(self._streams)} streams open already")
        if self._high_water >= MAX_STREAM_ID:
            raise TunnelClosed(f"{self.name} ran out of stream ids")
        self._high_water += 1
        stream = TunnelStream(self, self._high_water, None)
        if end_stream:
            stream._local_done = True
        self._track(stream)
        self._send(Open(stream.stream_id, method, path, headers, end_stream))
        return stream

    async def run(self) -> None:
        """Read frames until the websocket closes or the peer breaks the protocol."""
        tasks = [asyncio.create_task(self._write_loop(), name=f"{self.name}-writer")]
        if self._sync_interval > 0:
            tasks.append(asyncio.create_task(self._sync_loop(), name=f"{self.name}-sync"))
        try:
            while True:
                message = await self._transport.receive()
                if message is None:
                    break
                self.counters.bytes_received += len(message)
                for frame in self._decoder.decode(message):
                    self._dispatch(frame)
        except ProtocolError as error:
            self.counters.protocol_errors += 1
            log.warning("%s: protocol error, closing the tunnel: %s", self.name, error)
            await self._transport.close(1002, "protocol error")
        finally:
            self._closed.set()
            for task in tasks:
                task.cancel()
            for stream in list(self._streams.values()):
                stream._on_reset(ErrorCode.CONNECTION_LOST, "tunnel connection closed")
            for task in list(self._handlers.values()):
                task.cancel()
            await asyncio.gather(*tasks, *self._handlers.values(), return_exceptions=True)

    def go_away(self, reason: str = "") -> None:
        """Open and accept no new streams, and tell the peer so."""
        if not self._going_away and not self._closed.is_set():
            self._going_away = True
            self._send(GoAway(reason))

    async def drain(self, timeout: float) -> bool:
        """Stop taking streams, let the open ones finish for up to ``timeout`` seconds, close.

        Returns whether every stream finished in time.
        """
        self.go_away("draining")
        finished = True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            finished = False
        await self.close(1001, "going away")
        return finished

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._flush()
        await self._transport.close(code, reason)

    async def wait_closed(self) -> None:
        await self._closed.wait()

    def _send(self, frame: Frame) -> None:
        if self._closed.is_set():
            return
        self._outgoing.append(encode(frame))
        self._outgoing_ready.set()

    async def _flush(self) -> None:
        while self._outgoing and not self._closed.is_set():
            await self._send_batch()

    async def _send_batch(self) -> None:
        batch: list[bytes] = []
        size = 0
        outgoing = self._outgoing
        while outgoing and size < BATCH_BYTES:
            frame = outgoing.popleft()
            batch.append(frame)
            size += len(frame)
        message = batch[0] if len(batch) == 1 else b"".join(batch)
        self.counters.bytes_sent += len(message)
        await self._transport.send(message)

    async def _write_loop(self) -> None:
        ready = self._outgoing_ready
        try:
            while True:
                await ready.wait()
                ready.clear()
                while self._outgoing:
                    await self._send_batch()
        except Exception as error:
            # Whatever broke the send, a session that cannot send must not look alive.
            log.info("%s: send failed, closing: %s", self.name, error)
            await self._transport.close(1011, "send failed")

    async def _sync_loop(self) -> None:
        while True:
            await asyncio.sleep(self._sync_interval)
            self._send(Sync(self._high_water, tuple(self._streams)))

    def _track(self, stream: TunnelStream) -> None:
        self._streams[stream.stream_id] = stream
        self._idle.clear()
        self.counters.streams_opened += 1

    def _forget(self, stream: TunnelStream) -> None:
        if self._streams.pop(stream.stream_id, None) is not None and not self._streams:
            self._idle.set()

    def _dispatch(self, frame: Frame) -> None:
        if isinstance(frame, Data):
            stream = self._streams.get(frame.stream_id)
            if stream is not None:
                stream._on_data(frame.data)
                if frame.end_stream:
                    stream._on_remote_end()
        elif isinstance(frame, WindowUpdate):
            stream = self._streams.get(frame.stream_id)
            if stream is not None:
                stream._on_credit(frame.increment)
        elif isinstance(frame, Response):
            stream = self._streams.get(frame.stream_id)
            if stream is not None:
                stream._on_response(frame)
        elif isinstance(frame, End):
            stream = self._streams.get(frame.stream_id)
            if stream is not None:
                stream._on_remote_end()
        elif isinstance(frame, Open):
            self._accept(frame)
        elif isinstance(frame, Reset):
            stream = self._streams.get(frame.stream_id)
            if stream is not None:
                self.counters.stream_errors += 1
                stream._on_reset(frame.code, frame.reason)
            task = self._handlers.get(frame.stream_id)
            if task is not None:
                task.cancel()
        elif isinstance(frame, Sync):
            self._drop_orphans(frame)
        else:
            self._peer_going_away = True
            log.info("%s: peer is going away: %s", self.name, frame.reason or "no reason given")

    def _accept(self, frame: Open) -> None:
        if frame.stream_id <= self._high_water:
            raise ProtocolError(f"stream id {frame.stream_id} does not ascend")
        self._high_water = frame.stream_id
        if self._handler is None:
            raise ProtocolError("this side accepts no streams")
        if self._going_away or len(self._streams) >= self._max_streams:
            self._send(Reset(frame.stream_id, ErrorCode.REFUSED, "not accepting streams"))
            return
        stream = TunnelStream(self, frame.stream_id, frame)
        self._track(stream)
        task = self.loop.create_task(self._handle(stream))
        self._handlers[stream.stream_id] = task

    async def _handle(self, stream: TunnelStream) -> None:
        assert self._handler is not None
        try:
            await self._handler(stream)
        except StreamReset:
            pass
        except asyncio.CancelledError:
            stream.reset(ErrorCode.CANCELLED, "handler cancelled")
        except Exception:
            self.counters.stream_errors += 1
            log.exception("%s: stream %d handler failed", self.name, stream.stream_id)
            stream.reset(ErrorCode.INTERNAL, "handler failed")
        else:
            if not stream._local_done:
                stream.reset(ErrorCode.INTERNAL, "handler returned before the stream ended")
            elif not stream.finished:
                stream.reset(ErrorCode.CANCELLED, "response complete, request body not read")
        finally:
            self._handlers.pop(stream.stream_id, None)

    def _drop_orphans(self, frame: Sync) -> None:
        live = set(frame.live)
        for stream_id, stream in list(self._streams.items()):
            if stream_id <= frame.high_water and stream_id not in live:
                log.info("%s: dropping orphaned stream %d", self.name, stream_id)
                stream._on_reset(ErrorCode.ORPHANED, "the peer no longer knows this stream")
                task = self._handlers.get(stream_id)
                if task is not None:
                    task.cancel()
