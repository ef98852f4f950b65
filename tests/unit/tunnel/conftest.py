"""A hub, a tunnel and stand-in clusters, all in this process on 127.0.0.1.

The downstream is a plain aiohttp server with the few routes the tests need; the upstream
answers TokenReviews for ``user-<ws>`` tokens. The tunnel itself is real: HTTPS, websocket,
the manager dialling the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from pytest_syncer.apiserver.kubeconfig import write_kubeconfig
from pytest_syncer.hub.command import Hub
from pytest_syncer.tunnel.auth import TokenAuthority
from pytest_syncer.tunnel.client import DownstreamForwarder
from pytest_syncer.tunnel.endpoint import ClusterEndpoint
from pytest_syncer.tunnel.manager import Backoff, TunnelManager
from pytest_syncer.tunnel.server import tunnel_url

HUB_TOKEN = "hub-upstream-token"
DOWNSTREAM_TOKEN = "downstream-own-token"
WORKSPACE = "root:org:ws"
TARGET = "us-east1"


@dataclass
class Downstream:
    """What the stand-in downstream saw, and knobs to make it slow."""

    requests: list[dict[str, str]] = field(default_factory=list)
    watch_events: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    release_slow: asyncio.Event = field(default_factory=asyncio.Event)
    watchers: int = 0

    def end_watches(self) -> None:
        """One end-of-watch mark per watch still open, so teardown never waits on one."""
        for _ in range(self.watchers):
            self.watch_events.put_nowait(b"")


def downstream_app(state: Downstream) -> web.Application:
    async def record(request: web.Request) -> None:
        state.requests.append(
            {
                "method": request.method,
                "path": request.raw_path,
                "authorization": request.headers.get("Authorization", ""),
                "impersonate": request.headers.get("Impersonate-User", ""),
                "cookie": request.headers.get("Cookie", ""),
            }
        )

    async def get_configmap(request: web.Request) -> web.Response:
        await record(request)
        name = request.match_info["name"]
        return web.json_response({"kind": "ConfigMap", "metadata": {"name": name}})

    async def create_configmap(request: web.Request) -> web.Response:
        await record(request)
        body = await request.json()
        return web.json_response(body, status=201)

    async def watch(request: web.Request) -> web.StreamResponse:
        await record(request)
        response = web.StreamResponse()
        response.content_type = "application/json"
        await response.prepare(request)
        state.watchers += 1
        # The tunnel may hang up first: that is what some tests do.
        try:
            with contextlib.suppress(ConnectionResetError):
                while (line := await state.watch_events.get()) != b"":
                    await response.write(line)
                await response.write_eof()
        finally:
            state.watchers -= 1
        return response

    async def firehose(request: web.Request) -> web.StreamResponse:
        await record(request)
        response = web.StreamResponse()
        await response.prepare(request)
        block = b"z" * 65536
        for _ in range(int(request.query.get("blocks", "256"))):
            await response.write(block)
        await response.write_eof()
        return response

    async def slow(request: web.Request) -> web.Response:
        await record(request)
        await state.release_slow.wait()
        return web.json_response({"slow": True})

    async def metrics(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(text="secret metrics")

    app = web.Application()
    app.router.add_get("/api/v1/namespaces/default/configmaps/{name}", get_configmap)
    app.router.add_post("/api/v1/namespaces/default/configmaps", create_configmap)
    app.router.add_get("/api/v1/configmaps", watch)
    app.router.add_get("/api/v1/firehose", firehose)
    app.router.add_get("/api/v1/slow", slow)
    app.router.add_get("/metrics", metrics)
    return app


def upstream_app(
    reviews: list[str] | None = None, gate: asyncio.Event | None = None
) -> web.Application:
    """Answers TokenReviews; ``reviews`` collects the workspace of each one asked, and a
    ``gate`` holds every answer until it is set."""

    async def token_review(request: web.Request) -> web.Response:
        if reviews is not None:
            reviews.append(request.match_info["workspace"])
        if gate is not None:
            await gate.wait()
        if request.headers.get("Authorization") != f"Bearer {HUB_TOKEN}":
            return web.json_response({"kind": "Status", "code": 401}, status=401)
        workspace = request.match_info["workspace"]
        review = await request.json()
        ok = review["spec"]["token"] == f"user-{workspace}"
        status: dict[str, object] = {"authenticated": ok}
        if ok:
            status["user"] = {"username": "user", "extra": {"kcp.io/cluster": [workspace]}}
        return web.json_response({**review, "status": status}, status=201)

    app = web.Application()
    app.router.add_post(
        "/clusters/{workspace}/apis/authentication.k8s.io/v1/tokenreviews", token_review
    )
    return app


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@dataclass
class Rig:
    hub: Hub
    manager: TunnelManager
    downstream: Downstream
    authority: TokenAuthority
    client: aiohttp.ClientSession
    tmp: Path
    reviews: list[str]
    review_gate: asyncio.Event

    def proxy_url(self, path: str, workspace: str = WORKSPACE, target: str = TARGET) -> str:
        return f"{self.hub.url}/clusters/{workspace}/targets/{target}/proxy{path}"

    def tunnel_url(self, workspace: str = WORKSPACE, target: str = TARGET) -> str:
        return tunnel_url(self.hub.url, workspace, target)

    @staticmethod
    def user(workspace: str = WORKSPACE) -> dict[str, str]:
        return {"Authorization": f"Bearer user-{workspace}"}

    def hub_ssl(self) -> ssl.SSLContext:
        assert self.hub.ca_file is not None
        return ssl.create_default_context(cafile=str(self.hub.ca_file))


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    state = Downstream()
    down_runner, down_url = await serve(downstream_app(state))
    reviews: list[str] = []
    gate = asyncio.Event()
    gate.set()
    up_runner, up_url = await serve(upstream_app(reviews, gate))
    upstream_kubeconfig = write_kubeconfig(
        tmp_path / "upstream.kubeconfig",
        server=f"{up_url}/clusters/{WORKSPACE}",
        token=HUB_TOKEN,
        ca_pem=None,
        name="upstream",
    )
    downstream_kubeconfig = write_kubeconfig(
        tmp_path / "downstream.kubeconfig",
        server=down_url,
        token=DOWNSTREAM_TOKEN,
        ca_pem=None,
        name="downstream",
    )
    secret_file = tmp_path / "secret"
    secret_file.write_text(secrets.token_hex(32))
    authority = TokenAuthority.from_file(secret_file)
    hub = Hub(
        upstream_kubeconfig,
        secret_file,
        state_dir=tmp_path / "hub",
        response_timeout=10,
        drain_timeout=5,
    )
    async with hub:
        endpoint = ClusterEndpoint.from_kubeconfig(downstream_kubeconfig)
        async with DownstreamForwarder(endpoint, target=TARGET) as forwarder:
            manager = TunnelManager(
                tunnel_url(hub.url, WORKSPACE, TARGET),
                forwarder,
                token=authority.mint(WORKSPACE, TARGET, ttl=600),
                ca_file=hub.ca_file,
                backoff=Backoff(0.01, 0.05),
            )
            assert hub.ca_file is not None
            connector = aiohttp.TCPConnector(
                ssl=ssl.create_default_context(cafile=str(hub.ca_file))
            )
            async with manager, aiohttp.ClientSession(connector=connector) as client:
                await manager.wait_connected(10)
                yield Rig(hub, manager, state, authority, client, tmp_path, reviews, gate)
                gate.set()
                state.release_slow.set()
                state.end_watches()
    await down_runner.cleanup()
    await up_runner.cleanup()


def decode_lines(raw: bytes) -> list[dict[str, object]]:
    return [json.loads(line) for line in raw.splitlines() if line]
