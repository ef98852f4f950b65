"""The API server and the hub listen with the kernel's whole backlog, as kube-apiserver does.

Go's `net.Listen` asks for /proc/sys/net/core/somaxconn (net/sock_linux.go,
`maxListenerBacklog`), so a real API server takes as many connections at once as the kernel
allows; aiohttp's default of 128 did not, and the connections past it waited a second each for
the kernel's retransmission when the syncer pools opened theirs together. Both services also
log the event loop they run on, which `process/loop.py` chooses per service.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from pytest_syncer.process.loop import loop_choice
from tests.support.sockets import kernel_backlog_cap, listen_backlog

from .conftest import Environment


def test_the_api_server_and_the_hub_listen_with_the_kernels_whole_backlog(
    environment: Environment,
) -> None:
    wanted = min(socket.SOMAXCONN, kernel_backlog_cap())
    api_port = urlsplit(environment.api.ready["url"]).port
    assert api_port is not None
    assert listen_backlog(api_port) == wanted, "the API server's listen backlog"
    assert listen_backlog(environment.hub_port) == wanted, "the hub's listen backlog"


def test_the_api_server_runs_on_uvloop_and_the_hub_on_asyncios_loop(
    environment: Environment,
) -> None:
    """Each service's default (`process/loop.py`) unless `PYTEST_SYNCER_LOOP` names a loop; the
    API server serves through `process/listener.py`, which takes every waiting connection."""
    for name, service, default in (
        ("API server", environment.api, "uvloop"),
        ("hub", environment.hub, "asyncio"),
    ):
        expected = f"event loop: {loop_choice(default)}"
        log = service.log_path.read_text()
        assert expected in log, f"the {name}'s log lacks {expected!r}:\n{log[-2000:]}"
