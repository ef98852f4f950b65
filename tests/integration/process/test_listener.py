"""`Listener`: every connection waiting in the kernel's accept queue is taken at once, on
asyncio's loop and on uvloop, with TLS where the server speaks it.

uvloop's own servers take one connection per loop iteration (libuv pull request 3696, "unix:
don't accept() connections in a loop"): the hundred connections below, queued while the loop
was held, would be served over a hundred iterations. The iterations are counted, not timed.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable, Coroutine
from typing import Any, cast

import pytest

from pytest_syncer.apiserver.certs import CertificateAuthority, server_ssl_context
from pytest_syncer.process.listener import Listener
from pytest_syncer.process.loop import LOOPS, new_loop

WAITING = 100


def run_on(loop_name: str, scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    with asyncio.Runner(loop_factory=lambda: new_loop(loop_name)) as runner:
        runner.run(scenario())


class Served(asyncio.Protocol):
    """Records the loop iteration at which each connection reached its protocol."""

    def __init__(self, at: list[int], iteration: list[int], done: asyncio.Event) -> None:
        self._at, self._iteration, self._done = at, iteration, done

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._at.append(self._iteration[0])
        if len(self._at) == WAITING:
            self._done.set()


@pytest.mark.parametrize("loop_name", LOOPS)
def test_a_hundred_waiting_connections_are_served_within_a_few_loop_iterations(
    loop_name: str,
) -> None:
    at: list[int] = []
    clients: list[socket.socket] = []

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        iteration = [0]
        listener = Listener.open(lambda: Served(at, iteration, done), "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        # Connected while this coroutine holds the loop: the kernel completes each handshake
        # and queues it for accept(2), so all of them wait when the loop next looks.
        clients.extend(socket.create_connection(("127.0.0.1", port)) for _ in range(WAITING))

        def tick() -> None:
            iteration[0] += 1
            if not done.is_set():
                loop.call_soon(tick)

        loop.call_soon(tick)
        try:
            async with asyncio.timeout(30):
                await done.wait()
        except TimeoutError:
            served = f"{len(at)} of {WAITING} connections served"
            pytest.fail(f"{served} after {iteration[0]} loop iterations")
        finally:
            listener.close()
            await listener.wait_closed()

    try:
        run_on(loop_name, scenario)
    finally:
        for client in clients:
            client.close()
    assert max(at) <= 5, (
        f"the {WAITING} waiting connections reached their protocol at loop iterations "
        f"{sorted(set(at))}: a server taking one per iteration serves the last near {WAITING}"
    )


@pytest.mark.parametrize("loop_name", LOOPS)
def test_a_client_that_fails_the_tls_handshake_is_dropped_and_the_next_is_served(
    loop_name: str,
) -> None:
    authority = CertificateAuthority.generate("listener-test-ca")
    server_context = server_ssl_context(*authority.issue_server_certificate([], ["127.0.0.1"]))
    client_context = ssl.create_default_context(cadata=authority.cert_pem.decode())
    answers: list[bytes] = []

    class Greeting(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            cast(asyncio.WriteTransport, transport).write(b"served\n")

    async def scenario() -> None:
        listener = Listener.open(Greeting, "127.0.0.1", 0, ssl_context=server_context)
        port = listener.sockets[0].getsockname()[1]
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            async with asyncio.timeout(30):
                answers.append(await reader.read())
            writer.close()
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, ssl=client_context, server_hostname="127.0.0.1"
            )
            async with asyncio.timeout(30):
                answers.append(await reader.readline())
            writer.close()
            assert listener.is_serving()
        finally:
            listener.close()
            await listener.wait_closed()

    run_on(loop_name, scenario)
    assert answers == [b"", b"served\n"], "plain text got no answer, the TLS client its greeting"


@pytest.mark.parametrize("loop_name", LOOPS)
def test_a_closed_listener_takes_no_more_connections(loop_name: str) -> None:
    async def scenario() -> None:
        listener = Listener.open(asyncio.Protocol, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        listener.close()
        await listener.wait_closed()
        assert not listener.is_serving()
        assert listener.sockets == ()
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", port)

    run_on(loop_name, scenario)
