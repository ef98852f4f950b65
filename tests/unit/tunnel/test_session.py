"""The session layer over an in-memory message pipe: streams, credit, orphans, shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from pytest_syncer.harness.waiting import await_until
from pytest_syncer.tunnel.protocol import (
    INITIAL_WINDOW,
    Data,
    ErrorCode,
    Open,
    Sync,
    encode,
)
from pytest_syncer.tunnel.session import (
    StreamReset,
    TunnelClosed,
    TunnelSession,
    TunnelStream,
)


class Pipe:
    """One end of an in-memory websocket: what one end sends, the other receives."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.peer: Pipe | None = None
        self.closed = False

    async def send(self, message: bytes) -> None:
        if self.closed:
            raise ConnectionResetError("closed")
        assert self.peer is not None
        self.peer.inbox.put_nowait(message)

    async def receive(self) -> bytes | None:
        if self.closed:
            return None
        return await self.inbox.get()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if not self.closed:
            self.closed = True
            self.inbox.put_nowait(None)
            assert self.peer is not None
            if not self.peer.closed:
                self.peer.closed = True
                self.peer.inbox.put_nowait(None)


def pipe_pair() -> tuple[Pipe, Pipe]:
    left, right = Pipe(), Pipe()
    left.peer, right.peer = right, left
    return left, right


async def echo(stream: TunnelStream) -> None:
    """Answers 200 with the request path, then the request body."""
    assert stream.request is not None
    body = b""
    while chunk := await stream.read():
        body += chunk
    stream.send_response(200, (("x-path", stream.request.path),))
    await stream.write(body, end_stream=True)


async def read_all(stream: TunnelStream) -> bytes:
    body = b""
    while chunk := await stream.read():
        body += chunk
    return body


class Pair:
    def __init__(self, hub: TunnelSession, syncer: TunnelSession, hub_pipe: Pipe) -> None:
        self.hub = hub
        self.syncer = syncer
        self.hub_pipe = hub_pipe


@pytest.fixture
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
    handler = getattr(request, "param", echo)
    hub_pipe, syncer_pipe = pipe_pair()
    hub = TunnelSession(hub_pipe, name="hub", sync_interval=0)
    syncer = TunnelSession(syncer_pipe, handler=handler, name="syncer", sync_interval=0)
    tasks = [asyncio.create_task(hub.run()), asyncio.create_task(syncer.run())]
    yield Pair(hub, syncer, hub_pipe)
    await hub_pipe.close()
    await asyncio.gather(*tasks)


async def test_request_and_response_with_a_body(pair: Pair) -> None:
    stream = pair.hub.open_stream("POST", "/api/v1/x", (("a", "b"),))
    await stream.write(b"hello " * 50_000, end_stream=True)
    head = await stream.response()
    assert head.status == 200
    assert ("x-path", "/api/v1/x") in head.headers
    assert await read_all(stream) == b"hello " * 50_000
    await await_until(
        lambda: asyncio.sleep(0, (pair.hub.open_streams, pair.syncer.open_streams)),
        lambda counts: counts == (0, 0),
        what="both sides to forget the finished stream",
        timeout=5,
    )


async def firehose(stream: TunnelStream) -> None:
    """Streams 4 MiB whatever the reader does."""
    stream.send_response(200, ())
    for _ in range(64):
        await stream.write(b"x" * 65536)
    stream.end()


@pytest.mark.parametrize("pair", [firehose], indirect=True)
async def test_a_stalled_stream_never_blocks_the_others(pair: Pair) -> None:
    stalled = pair.hub.open_stream("GET", "/stalled", (), end_stream=True)
    await stalled.response()
    await await_until(
        lambda: asyncio.sleep(0, stalled.buffered),
        lambda buffered: buffered == INITIAL_WINDOW,
        what="the stalled stream's window to fill",
        timeout=5,
    )
    others = [pair.hub.open_stream("GET", f"/{n}", (), end_stream=True) for n in range(20)]
    bodies = await asyncio.wait_for(asyncio.gather(*(read_all(s) for s in others)), 10)
    assert all(len(body) == 64 * 65536 for body in bodies)
    assert stalled.buffered == INITIAL_WINDOW
    assert len(await read_all(stalled)) == 64 * 65536


async def test_data_beyond_the_credit_window_resets_only_that_stream(pair: Pair) -> None:
    stream = pair.hub.open_stream("GET", "/slow", (), end_stream=False)
    # Play a misbehaving syncer: push more than the window on the hub's stream.
    flood = encode(Data(stream.stream_id, b"y" * (INITIAL_WINDOW + 1)))
    await pair.hub_pipe.inbox.put(flood)
    with pytest.raises(StreamReset) as caught:
        await stream.response()
    assert caught.value.code is ErrorCode.FLOW_CONTROL
    other = pair.hub.open_stream("GET", "/fine", (), end_stream=True)
    assert (await other.response()).status == 200


async def test_a_sync_without_a_stream_drops_it_as_orphaned(pair: Pair) -> None:
    kept = pair.hub.open_stream("GET", "/kept", (), end_stream=False)
    orphan = pair.hub.open_stream("GET", "/orphan", (), end_stream=False)
    later = pair.hub.open_stream("GET", "/later", (), end_stream=False)
    await pair.hub_pipe.inbox.put(encode(Sync(orphan.stream_id, (kept.stream_id,))))
    with pytest.raises(StreamReset) as caught:
        await orphan.response()
    assert caught.value.code is ErrorCode.ORPHANED
    assert pair.hub.stream(kept.stream_id) is kept
    assert pair.hub.stream(later.stream_id) is later


async def test_periodic_sync_keeps_live_streams() -> None:
    hub_pipe, syncer_pipe = pipe_pair()
    hub = TunnelSession(hub_pipe, name="hub", sync_interval=0.01)
    syncer = TunnelSession(syncer_pipe, handler=echo, name="syncer", sync_interval=0.01)
    tasks = [asyncio.create_task(hub.run()), asyncio.create_task(syncer.run())]
    stream = hub.open_stream("POST", "/slow-body", ())
    await await_until(
        lambda: asyncio.sleep(0, syncer.counters.bytes_sent),
        lambda sent: sent > 200,
        what="several sync rounds",
        timeout=5,
    )
    await stream.write(b"late", end_stream=True)
    assert await read_all(stream) == b"late"
    await hub_pipe.close()
    await asyncio.gather(*tasks)


async def accepted(session: TunnelSession, count: int) -> None:
    await await_until(
        lambda: asyncio.sleep(0, session.open_streams),
        lambda open_streams: open_streams == count,
        what=f"{session.name} to have {count} streams open",
        timeout=5,
    )


async def test_go_away_stops_new_streams_and_lets_open_ones_finish(pair: Pair) -> None:
    stream = pair.hub.open_stream("POST", "/inflight", ())
    await accepted(pair.syncer, 1)
    pair.syncer.go_away("shutting down")
    await await_until(
        lambda: asyncio.sleep(0, pair.hub.accepting),
        lambda accepting: not accepting,
        what="the hub to hear the GOAWAY",
        timeout=5,
    )
    with pytest.raises(TunnelClosed):
        pair.hub.open_stream("GET", "/new", (), end_stream=True)
    await stream.write(b"done", end_stream=True)
    assert await read_all(stream) == b"done"


async def test_losing_the_connection_resets_every_stream(pair: Pair) -> None:
    streams = [pair.hub.open_stream("POST", f"/{n}", ()) for n in range(5)]
    await pair.hub_pipe.close()
    for stream in streams:
        with pytest.raises(StreamReset) as caught:
            await stream.response()
        assert caught.value.code is ErrorCode.CONNECTION_LOST
    await pair.hub.wait_closed()
    with pytest.raises(TunnelClosed):
        pair.hub.open_stream("GET", "/", (), end_stream=True)


async def test_a_protocol_error_closes_the_tunnel(pair: Pair) -> None:
    await pair.hub_pipe.inbox.put(b"\x07garbage-not-a-frame")
    await asyncio.wait_for(pair.hub.wait_closed(), 5)
    assert pair.hub.counters.protocol_errors == 1


async def hang(stream: TunnelStream) -> None:
    await asyncio.Event().wait()


@pytest.mark.parametrize("pair", [hang], indirect=True)
async def test_resetting_a_stream_cancels_its_handler(pair: Pair) -> None:
    stream = pair.hub.open_stream("GET", "/hang", (), end_stream=True)
    await accepted(pair.syncer, 1)
    stream.reset(ErrorCode.CANCELLED, "caller went away")
    await accepted(pair.syncer, 0)


async def test_stream_ids_must_ascend(pair: Pair) -> None:
    syncer_inbox = pair.hub_pipe.peer
    assert syncer_inbox is not None
    await syncer_inbox.inbox.put(encode(Open(5, "GET", "/", (), True)))
    await syncer_inbox.inbox.put(encode(Open(3, "GET", "/", (), True)))
    await asyncio.wait_for(pair.syncer.wait_closed(), 5)
    assert pair.syncer.counters.protocol_errors == 1


async def test_streams_beyond_the_limit_are_refused() -> None:
    hub_pipe, _ = pipe_pair()
    hub = TunnelSession(hub_pipe, name="hub", sync_interval=0, max_streams=2)
    streams = [hub.open_stream("GET", "/", (), end_stream=True) for _ in range(2)]
    with pytest.raises(TunnelClosed, match="2 streams open"):
        hub.open_stream("GET", "/", (), end_stream=True)
    assert len(streams) == 2
    await hub_pipe.close()
    await hub.run()


async def test_drain_waits_for_open_streams_then_closes(pair: Pair) -> None:
    stream = pair.hub.open_stream("POST", "/drain", ())
    await accepted(pair.syncer, 1)
    drained = asyncio.create_task(pair.syncer.drain(timeout=5))
    await await_until(
        lambda: asyncio.sleep(0, pair.hub.accepting),
        lambda accepting: not accepting,
        what="the GOAWAY to reach the hub",
        timeout=5,
    )
    assert not drained.done()
    await stream.write(b"finish", end_stream=True)
    assert await read_all(stream) == b"finish"
    assert await asyncio.wait_for(drained, 5) is True
