"""The fault proxy with real sockets on loopback: the syncer's end is a client socket, its peer
a listening socket; every fault is observed from the ends, as a syncer would see it."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from pytest_syncer.harness.netfaults.proxy import FaultProxy, Link
from pytest_syncer.harness.waiting import wait_until

SILENCE = 1.0
"""How long an end must see nothing (no byte, no FIN, no RST) for a blackhole to count."""


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    proxy = FaultProxy(seed=12)
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.create_server(("127.0.0.1", 0))
    sock.settimeout(10)
    with sock:
        yield sock


@pytest.fixture
def link(proxy: FaultProxy, listener: socket.socket) -> Link:
    return proxy.open("target-000/tunnel", listener.getsockname()[:2])


class Ends:
    """A connection through the link: `client` is the syncer's end, `server` its peer's."""

    def __init__(self, link: Link, listener: socket.socket) -> None:
        self.client = socket.create_connection(link.address, timeout=10)
        self.server, _ = listener.accept()
        self.server.settimeout(10)

    def close(self) -> None:
        self.client.close()
        self.server.close()


@pytest.fixture
def ends(link: Link, listener: socket.socket) -> Iterator[Ends]:
    opened = Ends(link, listener)
    try:
        yield opened
    finally:
        opened.close()


def receive(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise AssertionError(f"EOF after {len(data)} of {size} bytes")
        data += chunk
    return data


def assert_silent(sock: socket.socket) -> None:
    """Nothing arrives within SILENCE: no byte, and neither EOF nor reset."""
    sock.settimeout(SILENCE)
    try:
        got = sock.recv(1024)
    except TimeoutError:
        return
    finally:
        sock.settimeout(10)
    raise AssertionError(f"expected silence for {SILENCE}s, got {got!r} (b'' is a FIN)")


def assert_refused(address: tuple[str, int]) -> None:
    """A new connection is reset: at connect, or at the first read (the kernel may complete
    the handshake before the proxy answers with RST)."""
    with pytest.raises(ConnectionResetError):  # noqa: PT012
        client = socket.create_connection(address, timeout=10)
        with client:
            client.recv(1)


def test_passes_bytes_both_ways_and_the_fin(ends: Ends) -> None:
    ends.client.sendall(b"hello")
    assert receive(ends.server, 5) == b"hello"
    ends.server.sendall(b"world" * 1000)
    assert receive(ends.client, 5000) == b"world" * 1000
    ends.client.shutdown(socket.SHUT_WR)
    assert ends.server.recv(1) == b""
    ends.server.sendall(b"after half-close")
    assert receive(ends.client, 16) == b"after half-close"


@pytest.mark.parametrize("direction", ["out", "in"])
def test_latency_delays_each_direction_by_at_least_the_figure(
    link: Link, ends: Ends, direction: str
) -> None:
    link.latency(150, jitter=50, direction="out" if direction == "out" else "in")
    sender, receiver = (
        (ends.client, ends.server) if direction == "out" else (ends.server, ends.client)
    )
    for _ in range(3):
        sent = time.monotonic()
        sender.sendall(b"ping")
        assert receive(receiver, 4) == b"ping"
        assert time.monotonic() - sent >= 0.150


def test_bandwidth_limits_the_rate(link: Link, ends: Ends) -> None:
    link.bandwidth(100_000, direction="out")
    payload = bytes(range(256)) * 120
    sent = time.monotonic()
    ends.client.sendall(payload)
    assert receive(ends.server, len(payload)) == payload
    assert time.monotonic() - sent >= len(payload) / 100_000


def test_blackhole_swallows_bytes_fin_and_reset(link: Link, ends: Ends) -> None:
    ends.client.sendall(b"before")
    assert receive(ends.server, 6) == b"before"
    link.blackhole()
    ends.client.sendall(b"lost")
    ends.server.sendall(b"lost too")
    assert_silent(ends.server)
    assert_silent(ends.client)
    ends.client.shutdown(socket.SHUT_WR)
    assert_silent(ends.server)
    ends.server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    ends.server.close()
    assert_silent(ends.client)


def test_blackhole_in_one_direction_leaves_the_other(link: Link, ends: Ends) -> None:
    link.blackhole(direction="in")
    ends.client.sendall(b"request")
    assert receive(ends.server, 7) == b"request"
    ends.server.sendall(b"answer")
    assert_silent(ends.client)


def test_reset_sends_rst_to_both_ends_and_refuses_new_connections(
    link: Link, ends: Ends, listener: socket.socket
) -> None:
    link.reset()
    with pytest.raises(ConnectionResetError):
        ends.client.recv(1)
    with pytest.raises(ConnectionResetError):
        ends.server.recv(1)
    assert link.connections == 0
    assert_refused(link.address)
    link.heal()
    healed = Ends(link, listener)
    try:
        healed.client.sendall(b"back")
        assert receive(healed.server, 4) == b"back"
    finally:
        healed.close()


def test_heal_resets_connections_that_lost_bytes_and_new_ones_pass(
    link: Link, ends: Ends, listener: socket.socket
) -> None:
    link.blackhole()
    ends.client.sendall(b"lost")
    assert_silent(ends.server)
    link.heal()
    with pytest.raises(ConnectionResetError):
        ends.client.recv(1)
    healed = Ends(link, listener)
    try:
        healed.client.sendall(b"fresh")
        assert receive(healed.server, 5) == b"fresh"
        healed.server.sendall(b"answer")
        assert receive(healed.client, 6) == b"answer"
    finally:
        healed.close()
    assert link.describe() == "passes"


def test_an_unreachable_peer_is_a_reset(proxy: FaultProxy) -> None:
    with socket.create_server(("127.0.0.1", 0)) as gone:
        peer = gone.getsockname()[:2]
    assert_refused(proxy.open("target-000/upstream", peer).address)


def test_closed_connections_are_forgotten(link: Link, listener: socket.socket) -> None:
    for _ in range(5):
        opened = Ends(link, listener)
        opened.client.close()
        assert opened.server.recv(1) == b""
        opened.server.close()
    assert link.accepted == 5
    wait_until(
        lambda: link.connections,
        lambda open_now: open_now == 0,
        what="the link to forget its closed connections",
        timeout=10,
        interval=0.05,
    )


def test_history_sees_each_end_close_even_through_a_blackhole(link: Link, ends: Ends) -> None:
    link.blackhole()
    ends.client.close()
    ends.server.close()
    record = wait_until(
        lambda: link.history()[0],
        lambda seen: seen.syncer_closed is not None and seen.peer_closed is not None,
        what="the proxy to see both ends close",
        timeout=10,
        interval=0.05,
    )
    assert len(link.history()) == 1
    assert record.syncer_closed is not None
    assert record.peer_closed is not None
    assert record.opened <= min(record.syncer_closed, record.peer_closed)
