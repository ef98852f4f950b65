"""Real processes on 127.0.0.1: the embedded API server (upstream workspaces and the target's
cluster), the hub, and a tunnel agent that reaches the hub through a TCP relay the tests can cut.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import ssl
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from pytest_syncer.harness.waiting import await_until
from pytest_syncer.process.parent import ServiceProcess
from tests.support.tokens import bearer, token_of

WORKSPACE = "upstream"
OTHER_WORKSPACE = "elsewhere"
TARGET = "t1"


class Relay:
    """A TCP relay on its own thread and loop: ``cut`` severs every connection through it and
    refuses new ones until ``restore``, which is how a test kills the tunnel's connection."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.refusing = False
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._frozen: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port: int = self._server.sockets[0].getsockname()[1]

    def _call(self, coroutine: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(10)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                if writer in self._frozen:
                    continue
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            self._writers.discard(writer)

    async def _cut(self) -> None:
        self.refusing = True
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def cut(self) -> None:
        self._call(self._cut())

    async def _freeze(self) -> None:
        self._frozen.update(self._writers)

    def freeze(self) -> None:
        """Black-hole the connections open now (bytes vanish, no FIN, no RST); new ones pass:
        a peer that went silent, which only a ping timeout finds."""
        self._call(self._freeze())

    def restore(self) -> None:
        self.refusing = False

    def close(self) -> None:
        self._call(self._cut())
        self._server.close()
        self._call(self._server.wait_closed())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def mint(secret: Path, workspace: str, target: str, ttl: float = 600) -> str:
    """A tunnel token from the real ``pytest-syncer token`` command."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest_syncer",
            "token",
            "--secret-file",
            str(secret),
            "--workspace",
            workspace,
            "--target",
            target,
            "--ttl",
            str(ttl),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


@dataclass
class Environment:
    work: Path
    api: ServiceProcess
    hub: ServiceProcess
    agent: ServiceProcess
    relay: Relay
    secret: Path
    tokens_used: set[str]

    @property
    def hub_url(self) -> str:
        url: str = self.hub.ready["url"]
        return url

    @property
    def hub_ca(self) -> str:
        ca: str = self.hub.ready["ca"]
        return ca

    def kubeconfig(self, cluster: str) -> str:
        path: str = self.api.ready["kubeconfigs"][cluster]
        return path

    def token(self, cluster: str) -> str:
        token = token_of(self.kubeconfig(cluster))
        self.tokens_used.add(token)
        return token

    def proxy_url(self, path: str, workspace: str = WORKSPACE, target: str = TARGET) -> str:
        return f"{self.hub_url}/clusters/{workspace}/targets/{target}/proxy{path}"

    def direct_url(self, path: str, cluster: str = TARGET) -> str:
        return f"{self.api.ready['url']}/clusters/{cluster}{path}"

    def caller(self) -> dict[str, str]:
        return bearer(self.token(WORKSPACE))

    def downstream(self) -> dict[str, str]:
        return bearer(self.token(TARGET))

    def logs(self) -> str:
        return "".join(
            process.log_path.read_text(errors="replace")
            for process in (self.api, self.hub, self.agent)
        )

    def restart_hub(self) -> None:
        """Start the hub again on the same port and state dir (the same URL and CA)."""
        self.hub = start_hub(self.work, self.kubeconfig(WORKSPACE), self.secret, self.hub_port)

    @property
    def hub_port(self) -> int:
        return int(self.hub_url.rsplit(":", 1)[1])


def start_hub(work: Path, upstream_kubeconfig: str, secret: Path, port: int = 0) -> ServiceProcess:
    hub = ServiceProcess(
        "hub",
        [
            "--upstream-kubeconfig",
            upstream_kubeconfig,
            "--token-secret-file",
            str(secret),
            "--state-dir",
            str(work / "hub"),
            "--port",
            str(port),
            "--response-timeout",
            "5",
            "--ping-interval",
            "5",
            "--review-ttl",
            "2",
        ],
        log_path=work / "hub.log",
    )
    hub.start()
    return hub


def start_agent(
    work: Path,
    secret: Path,
    kubeconfig: str,
    hub_ca: str,
    relay_port: int,
    target: str = TARGET,
    ping: tuple[str, str] = ("5", "10"),
) -> ServiceProcess:
    """A tunnel agent for `target` dialling through the relay; `ping` is (interval, timeout)."""
    token_file = work / f"{target}.token"
    token_file.write_text(mint(secret, WORKSPACE, target))
    agent = ServiceProcess("tunnel-agent", [], log_path=work / f"agent-{target}.log")
    agent.argv = [
        sys.executable,
        "-m",
        "pytest_syncer.tunnel.agent",
        "--downstream-kubeconfig",
        kubeconfig,
        "--sync-target",
        target,
        "--upstream-cluster",
        WORKSPACE,
        "--tunnel-url",
        f"https://127.0.0.1:{relay_port}",
        "--tunnel-token-file",
        str(token_file),
        "--tunnel-ca-file",
        hub_ca,
        "--tunnel-backoff-initial",
        "0.05",
        "--tunnel-backoff-max",
        "0.2",
        "--tunnel-ping-interval",
        ping[0],
        "--tunnel-ping-timeout",
        ping[1],
    ]
    agent.start()
    return agent


@pytest.fixture(scope="package")
def environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Environment]:
    work = tmp_path_factory.mktemp("tunnel")
    secret = work / "secret"
    secret.write_text(secrets.token_hex(32))
    api = ServiceProcess(
        "apiserver",
        ["--clusters", f"{WORKSPACE},{OTHER_WORKSPACE},{TARGET}", "--kubeconfig-dir", str(work)],
        log_path=work / "apiserver.log",
    )
    with contextlib.ExitStack() as stack:
        api.start()
        stack.callback(api.stop)
        kubeconfigs = api.ready["kubeconfigs"]
        hub = start_hub(work, kubeconfigs[WORKSPACE], secret)
        relay = Relay(int(hub.ready["url"].rsplit(":", 1)[1]))
        stack.callback(relay.close)
        agent = start_agent(work, secret, kubeconfigs[TARGET], hub.ready["ca"], relay.port)
        stack.callback(agent.stop)
        env = Environment(work, api, hub, agent, relay, secret, set())
        # The hub may be restarted by a test: stop whichever one is current.
        stack.callback(lambda: env.hub.stop())
        yield env


@pytest.fixture
async def http(environment: Environment) -> AsyncIterator[aiohttp.ClientSession]:
    """A client that trusts both the hub's CA and the API server's."""
    context = ssl.create_default_context(cafile=environment.hub_ca)
    context.load_verify_locations(cafile=environment.api.ready["ca"])
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        yield session


@pytest.fixture
async def env_ready(environment: Environment, http: aiohttp.ClientSession) -> Environment:
    """The environment once a proxied request gets through (the tunnel is up)."""

    async def status() -> int:
        async with http.get(
            environment.proxy_url("/version"), headers=environment.caller()
        ) as response:
            await response.read()
            return response.status

    await await_until(status, lambda code: code == 200, what="the tunnel to serve", timeout=30)
    return environment
