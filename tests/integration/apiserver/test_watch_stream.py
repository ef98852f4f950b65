"""A watch stream on the wire: chunked HTTP/1.1 framing read byte for byte from a TLS socket, a
burst of events to one watcher, and a watcher that stops reading.

Chunked transfer coding (RFC 9112 section 7.1): ``<hex size>CRLF<data>CRLF`` per chunk, a
``0CRLF CRLF`` last chunk; a watch is newline-delimited JSON events (kube-apiserver's
``k8s.io/apiserver/pkg/endpoints/handlers/watch.go`` writes one event per frame and flushes
when no further event is queued)."""

from __future__ import annotations

import json
import socket
import ssl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.apiserver.api.watch import Watcher
from pytest_syncer.harness.waiting import wait_until
from tests.integration.apiserver.clients import ClusterClient
from tests.support.tokens import token_of

CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


class RawStream:
    """One HTTP/1.1 GET over TLS whose response body is read and un-chunked by hand."""

    def __init__(self, sock: ssl.SSLSocket) -> None:
        self.sock = sock
        self.buffer = b""
        self.chunks: list[bytes] = []

    def _fill(self) -> None:
        data = self.sock.recv(1 << 16)
        if not data:
            raise AssertionError(f"connection closed; unparsed: {self.buffer[:200]!r}")
        self.buffer += data

    def _take_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def headers(self) -> str:
        return self._take_until(b"\r\n\r\n").decode()

    def body(self) -> bytes:
        """Every chunk up to the last one, each framing checked; their data joined."""
        while True:
            size = int(self._take_until(b"\r\n"), 16)
            data = self._take(size)
            assert self._take(2) == b"\r\n", "a chunk's data must end with CRLF"
            if size == 0:
                return b"".join(self.chunks)
            self.chunks.append(data)


@contextmanager
def raw_watch(
    apiserver: BackgroundAPIServer, query: str, receive_buffer: int | None = None
) -> Iterator[RawStream]:
    """A watch of the upstream's default ConfigMaps; its status line and headers are read."""
    context = ssl.create_default_context(cafile=str(apiserver.ca_file))
    host, port = apiserver.url.removeprefix("https://").rsplit(":", 1)
    plain = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        plain.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    plain.settimeout(30)
    plain.connect((host, int(port)))
    sock = context.wrap_socket(plain, server_hostname=host)
    token = token_of(apiserver.kubeconfigs["upstream"])
    request = (
        f"GET /clusters/upstream{CONFIGMAPS}?{query} HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"
    )
    try:
        sock.sendall(request.encode())
        stream = RawStream(sock)
        head = stream.headers()
        assert head.startswith("HTTP/1.1 200"), head
        assert "transfer-encoding: chunked" in head.lower(), head
        yield stream
    finally:
        sock.close()


def _create(upstream: ClusterClient, name: str, labels: dict[str, str], data: str = "x") -> None:
    body = {"metadata": {"name": name, "labels": labels}, "data": {"d": data}}
    response = upstream.post(CONFIGMAPS, body)
    assert response.status_code == 201, response.text


def _revision(upstream: ClusterClient) -> str:
    response = upstream.get(CONFIGMAPS, params={"limit": "1"})
    return str(response.json()["metadata"]["resourceVersion"])


def _lines(body: bytes) -> list[dict[str, Any]]:
    assert body.endswith(b"\n"), body[-100:]
    return [json.loads(line) for line in body.split(b"\n")[:-1]]


def test_a_burst_to_one_watcher_arrives_whole_in_order_and_as_the_log_replays_it(
    apiserver: BackgroundAPIServer, upstream: ClusterClient
) -> None:
    """One DELETE of a collection removes 40 objects in one request: their DELETED events reach
    the watcher together. Each arrives once, in revision order, in valid chunk framing, and the
    bytes equal what a watch resuming from the same revision is replayed from the event log."""
    token = uuid.uuid4().hex[:8]
    names = [f"burst-{token}-{index:02d}" for index in range(40)]
    for name in names:
        _create(upstream, name, {"burst": token})
    revision = _revision(upstream)
    query = f"watch=1&resourceVersion={revision}&labelSelector=burst%3D{token}&timeoutSeconds=3"
    with raw_watch(apiserver, query) as stream:
        deleted = upstream.delete(CONFIGMAPS, params={"labelSelector": f"burst={token}"})
        assert deleted.status_code == 200, deleted.text
        body = stream.body()
    events = _lines(body)
    assert [event["type"] for event in events] == ["DELETED"] * len(names)
    assert sorted(event["object"]["metadata"]["name"] for event in events) == names
    revisions = [int(event["object"]["metadata"]["resourceVersion"]) for event in events]
    assert revisions == sorted(set(revisions)), revisions
    replay_query = {
        "watch": "1",
        "resourceVersion": revision,
        "labelSelector": f"burst={token}",
        "timeoutSeconds": "1",
    }
    replayed = upstream.get(CONFIGMAPS, params=replay_query)
    assert replayed.content == body


def test_a_watcher_that_stops_reading_holds_its_events_back_then_gets_them_all(
    apiserver: BackgroundAPIServer, upstream: ClusterClient
) -> None:
    """A client that stops reading fills the socket buffers, then the server's transport stops
    taking more: the rest waits in the watcher's queue (which cuts the watch off at its limit),
    never unbounded in the transport. Read again, every event arrives complete and in order."""
    token = uuid.uuid4().hex[:8]
    count, size = 40, 512 * 1024
    query = f"watch=1&resourceVersion={_revision(upstream)}&labelSelector=slow%3D{token}"
    fanout = apiserver.server._app.fanout  # type: ignore[union-attr]
    with raw_watch(apiserver, query, receive_buffer=4096) as stream:
        labelled = {"metadata": {"labels": {"slow": token}}}
        (watcher,) = [
            w
            for watchers in fanout._watchers.values()
            for w in watchers
            if not w.selection.empty and w.selection.matches(labelled)
        ]
        for index in range(count):
            _create(upstream, f"slow-{token}-{index:02d}", {"slow": token}, "y" * size)
        held = wait_until(
            lambda: len(watcher.pending),
            lambda pending: pending > 0,
            what="events held in the watcher's queue while its client reads nothing",
        )
        # Socket buffers take a few MiB at most; 20 MiB of events cannot all be past the queue.
        assert held >= count // 4, f"only {held} of {count} events were held back"
        body = b""
        while body.count(b"\n") < count:
            size_line = stream._take_until(b"\r\n")
            body += stream._take(int(size_line, 16))
            assert stream._take(2) == b"\r\n", "a chunk's data must end with CRLF"
    received = _lines(body)
    names = [event["object"]["metadata"]["name"] for event in received]
    assert names == [f"slow-{token}-{index:02d}" for index in range(count)]
    assert all(event["type"] == "ADDED" for event in received)
    assert all(len(event["object"]["data"]["d"]) == size for event in received)


def _until_closed(stream: RawStream) -> bytes:
    """What arrives until the server closes the connection (EOF or a reset); a socket timeout
    means it did not."""
    received = stream.buffer
    while True:
        try:
            data = stream.sock.recv(1 << 16)
        except (ConnectionResetError, ssl.SSLError):
            return received
        if not data:
            return received
        received += data


def test_a_watch_that_fails_inside_the_server_ends_at_once_and_the_server_serves_on(
    apiserver: BackgroundAPIServer, upstream: ClusterClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once a watch's status line is out, an internal error cannot be answered with a `Status`:
    the server drops the connection, so the client sees the stream end and watches again from
    its last resourceVersion (as a client of a restarted server does), instead of waiting on a
    stream that stays open and silent until its read timeout."""
    token = uuid.uuid4().hex[:8]
    original = Watcher.drain

    def failing_drain(watcher: Watcher) -> bytes:
        if any(event.key.name == f"fail-{token}" for event in watcher.pending):
            raise RuntimeError("an internal error, injected")
        return original(watcher)

    monkeypatch.setattr(Watcher, "drain", failing_drain)
    revision = _revision(upstream)
    query = f"watch=1&resourceVersion={revision}&labelSelector=fail%3D{token}"
    with raw_watch(apiserver, query) as stream:
        stream.sock.settimeout(10)
        _create(upstream, f"fail-{token}", {"fail": token})
        try:
            tail = _until_closed(stream)
        except TimeoutError:
            pytest.fail("the failed watch stayed open and silent for 10 s")
    assert b'"ADDED"' not in tail, "the event whose drain failed was not sent"
    monkeypatch.setattr(Watcher, "drain", original)
    with raw_watch(apiserver, f"{query}&timeoutSeconds=1") as again:
        events = _lines(again.body())
    assert [(event["type"], event["object"]["metadata"]["name"]) for event in events] == [
        ("ADDED", f"fail-{token}")
    ], "a watch from the same resourceVersion gets the event"
