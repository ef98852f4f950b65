"""The hub's end of the tunnel: it accepts one tunnel per sync target and proxies requests
for that target through it.

- ``/clusters/<ws>/apis/workload.kcp.io/v1alpha1/synctargets/<name>/tunnel``: the syncer's
  websocket, opened with a tunnel token for exactly (ws, name) and, when the hub asks for
  client certificates, a certificate that names the target.
- ``/clusters/<ws>/targets/<name>/proxy/<path>``: any caller whose bearer token the upstream
  accepts for ``<ws>`` (a TokenReview, cached briefly) reaches ``<path>`` on that target's
  cluster. The answer streams back as it comes, so a watch stays open and flows.

A new tunnel from a target replaces the old one: the old one takes no new requests but keeps
serving the ones it has until they finish (or the drain timeout passes).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from pytest_syncer.tunnel.auth import (
    TokenAuthority,
    TokenError,
    bearer_token,
    certificate_names_target,
    fingerprint,
)
from pytest_syncer.tunnel.client import forwardable_headers, response_headers
from pytest_syncer.tunnel.endpoint import ClusterEndpoint
from pytest_syncer.tunnel.errors import status_response
from pytest_syncer.tunnel.protocol import ErrorCode
from pytest_syncer.tunnel.session import (
    DEFAULT_SYNC_INTERVAL,
    MAX_MESSAGE_SIZE,
    StreamReset,
    TunnelClosed,
    TunnelSession,
    TunnelStream,
)
from pytest_syncer.tunnel.transports import AiohttpTransport

log = logging.getLogger(__name__)

TUNNEL_PATH = "/clusters/{workspace}/apis/workload.kcp.io/v1alpha1/synctargets/{target}/tunnel"
PROXY_PATH = "/clusters/{workspace}/targets/{target}/proxy"
MAX_PROXIED_BODY = 16 * 1024 * 1024
_WORKSPACE = re.compile(r"^[a-z0-9]([a-z0-9:-]{0,251}[a-z0-9])?$")
_TARGET = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")
_PROXY_RAW = re.compile(r"^/clusters/[^/?]+/targets/[^/?]+/proxy(?P<rest>[/?].*)?$")
#: Reset codes that mean the request never reached the downstream: safe to try again.
_NOT_PROCESSED = frozenset({ErrorCode.REFUSED})


def tunnel_url(hub_url: str, workspace: str, target: str) -> str:
    """The websocket URL a syncer dials for its target."""
    base = hub_url.rstrip("/").replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return base + TUNNEL_PATH.format(workspace=workspace, target=target)


@dataclass(frozen=True)
class Review:
    allowed: bool
    status: int = 200
    reason: str = ""


class TokenReviewer:
    """Asks the upstream whether a bearer token is valid for a workspace (TokenReview), and
    remembers the answer briefly so a busy caller costs one review per ``ttl``."""

    def __init__(
        self,
        upstream: ClusterEndpoint,
        *,
        ttl: float = 10.0,
        negative_ttl: float = 2.0,
        max_entries: int = 10_000,
    ) -> None:
        self._upstream = upstream
        self._ttl = ttl
        self._negative_ttl = negative_ttl
        self._max_entries = max_entries
        self._cache: dict[tuple[str, str], tuple[float, Review]] = {}
        self._pending: dict[tuple[str, str], asyncio.Task[Review]] = {}
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=self._upstream.ssl_context, limit=16),
            timeout=aiohttp.ClientTimeout(total=10),
        )

    async def close(self) -> None:
        for task in list(self._pending.values()):
            task.cancel()
        await asyncio.gather(*self._pending.values(), return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def review(self, workspace: str, token: str) -> Review:
        key = (workspace, hashlib.sha256(token.encode()).hexdigest())
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        task = self._pending.get(key)
        if task is None:
            # One review per token at a time, in a task of its own: a caller that hangs up
            # cancels only its own wait, never the review the others are waiting for.
            task = asyncio.create_task(self._ask(workspace, token))
            self._pending[key] = task
            task.add_done_callback(lambda done: self._settle(key, done))
        return await asyncio.shield(task)

    def _settle(self, key: tuple[str, str], task: asyncio.Task[Review]) -> None:
        self._pending.pop(key, None)
        if task.cancelled() or task.exception() is not None:
            return
        result = task.result()
        if result.allowed or result.status in (401, 403):
            ttl = self._ttl if result.allowed else self._negative_ttl
            if len(self._cache) >= self._max_entries:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = (time.monotonic() + ttl, result)

    async def _ask(self, workspace: str, token: str) -> Review:
        if self._session is None:
            raise RuntimeError("the token reviewer is not started")
        url = (
            f"{self._upstream.server_root}/clusters/{workspace}"
            "/apis/authentication.k8s.io/v1/tokenreviews"
        )
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token},
        }
        headers = {"Content-Type": "application/json"}
        if self._upstream.authorization:
            headers["Authorization"] = self._upstream.authorization
        try:
            async with self._session.post(url, data=json.dumps(body), headers=headers) as answer:
                if answer.status in (401, 403, 404):
                    return Review(False, 403, f"the upstream does not serve workspace {workspace}")
                if answer.status >= 300:
                    return Review(False, 503, f"the upstream answered the review {answer.status}")
                review: dict[str, Any] = await answer.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            return Review(False, 503, f"the upstream could not review the token: {error}")
        status = review.get("status") or {}
        if not status.get("authenticated"):
            return Review(False, 401, "the token is not valid for this workspace")
        clusters = ((status.get("user") or {}).get("extra") or {}).get("kcp.io/cluster")
        if clusters and workspace not in clusters:
            return Review(False, 403, f"the token is not valid for workspace {workspace}")
        return Review(True)


class TunnelRegistry:
    """The current tunnel of each (workspace, target), and the replaced ones still draining."""

    def __init__(self, drain_timeout: float) -> None:
        self._drain_timeout = drain_timeout
        self._current: dict[tuple[str, str], TunnelSession] = {}
        self._draining: set[asyncio.Task[bool]] = set()

    def get(self, key: tuple[str, str]) -> TunnelSession | None:
        session = self._current.get(key)
        if session is not None and session.accepting:
            return session
        return None

    def attach(self, key: tuple[str, str], session: TunnelSession) -> None:
        old = self._current.get(key)
        self._current[key] = session
        if old is not None and not old.closed:
            log.info("target=%s/%s new tunnel replaces the old one; draining it", *key)
            task = asyncio.create_task(old.drain(self._drain_timeout))
            self._draining.add(task)
            task.add_done_callback(self._draining.discard)

    def detach(self, key: tuple[str, str], session: TunnelSession) -> None:
        if self._current.get(key) is session:
            del self._current[key]

    async def close(self) -> None:
        sessions = list(self._current.values())
        self._current.clear()
        await asyncio.gather(*(session.close(1001, "hub stopping") for session in sessions))
        for task in list(self._draining):
            task.cancel()
        await asyncio.gather(*self._draining, return_exceptions=True)


class TunnelServer:
    """Serves the tunnel and proxy routes on an aiohttp application (the hub's)."""

    def __init__(
        self,
        authority: TokenAuthority,
        reviewer: TokenReviewer,
        *,
        response_timeout: float = 30.0,
        drain_timeout: float = 60.0,
        ping_interval: float = 20.0,
        sync_interval: float = DEFAULT_SYNC_INTERVAL,
        require_client_certificate: bool = False,
    ) -> None:
        self.authority = authority
        self.reviewer = reviewer
        self.registry = TunnelRegistry(drain_timeout)
        #: Seconds a proxied request waits for the response head before it gets 504.
        self.response_timeout = response_timeout
        self._ping_interval = ping_interval
        self._sync_interval = sync_interval
        self._require_client_certificate = require_client_certificate

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(TUNNEL_PATH, self._tunnel)
        app.router.add_route("*", PROXY_PATH + "{path:(/.*)?}", self._proxy)

    async def start(self) -> None:
        await self.reviewer.start()

    async def close(self) -> None:
        await self.registry.close()
        await self.reviewer.close()

    async def _tunnel(self, request: web.Request) -> web.StreamResponse:
        workspace, target, token, refusal = _read_route(request)
        if refusal is not None:
            return refusal
        if token is None:
            log.info("target=%s/%s tunnel refused: no bearer token", workspace, target)
            return status_response(401, "a tunnel token is required")
        try:
            self.authority.verify(token, workspace, target)
        except TokenError as error:
            log.info(
                "target=%s/%s tunnel refused (token %s): %s",
                workspace,
                target,
                fingerprint(token),
                error.reason,
            )
            return status_response(error.status, error.reason)
        if self._require_client_certificate:
            peercert = request.transport.get_extra_info("peercert") if request.transport else None
            if not certificate_names_target(peercert, target):
                log.info(
                    "target=%s/%s tunnel refused: no client certificate names it", workspace, target
                )
                return status_response(403, f"a client certificate naming {target} is required")
        websocket = web.WebSocketResponse(
            compress=False,
            max_msg_size=MAX_MESSAGE_SIZE,
            heartbeat=self._ping_interval or None,
        )
        if not websocket.can_prepare(request).ok:
            return status_response(400, "the tunnel endpoint needs a websocket upgrade")
        await websocket.prepare(request)
        key = (workspace, target)
        session = TunnelSession(
            AiohttpTransport(websocket),
            name=f"target={workspace}/{target}",
            sync_interval=self._sync_interval,
        )
        self.registry.attach(key, session)
        log.info("target=%s/%s tunnel connected (token %s)", workspace, target, fingerprint(token))
        try:
            await session.run()
        finally:
            self.registry.detach(key, session)
            log.info("target=%s/%s tunnel disconnected", workspace, target)
        return websocket

    async def _proxy(self, request: web.Request) -> web.StreamResponse:
        workspace, target, token, refusal = _read_route(request)
        if refusal is not None:
            return refusal
        if token is None:
            return status_response(401, "a bearer token is required")
        review = await self.reviewer.review(workspace, token)
        if not review.allowed:
            log.info(
                "target=%s/%s proxy refused (token %s): %s",
                workspace,
                target,
                fingerprint(token),
                review.reason,
            )
            return status_response(review.status, review.reason)
        match = _PROXY_RAW.match(request.raw_path)
        rest = (match.group("rest") if match else None) or "/"
        path = rest if rest.startswith("/") else "/" + rest
        try:
            body = await request.read() if request.body_exists else b""
        except web.HTTPRequestEntityTooLarge:
            return status_response(413, f"request body over {MAX_PROXIED_BODY} bytes")
        headers = forwardable_headers(request.headers.items())
        return await self._forward(request, (workspace, target), path, headers, body)

    async def _forward(
        self,
        request: web.Request,
        key: tuple[str, str],
        path: str,
        headers: tuple[tuple[str, str], ...],
        body: bytes,
    ) -> web.StreamResponse:
        for attempt in range(2):
            session = self.registry.get(key)
            if session is None:
                return status_response(503, f"sync target {key[1]} has no tunnel connected")
            try:
                stream = session.open_stream(request.method, path, headers, end_stream=not body)
            except TunnelClosed as error:
                return status_response(503, f"sync target {key[1]}: {error}")
            try:
                async with asyncio.timeout(self.response_timeout):
                    if body:
                        await stream.write(body, end_stream=True)
                    head = await stream.response()
            except TimeoutError:
                stream.reset(ErrorCode.TIMEOUT, "no response before the deadline")
                return status_response(
                    504, f"sync target {key[1]} did not answer within {self.response_timeout:g}s"
                )
            except StreamReset as reset:
                if reset.code in _NOT_PROCESSED and attempt == 0:
                    continue
                return status_response(503, f"sync target {key[1]}: tunnel stream {reset}")
            except asyncio.CancelledError:
                stream.reset(ErrorCode.CANCELLED, "the caller went away")
                raise
            return await _relay(request, stream, head.status, head.headers)
        return status_response(503, f"sync target {key[1]} refused the request")


async def _relay(
    request: web.Request, stream: TunnelStream, status: int, headers: tuple[tuple[str, str], ...]
) -> web.StreamResponse:
    """Stream the response body back to the caller as it arrives (in one piece when it all
    came with the head, as most API responses do)."""
    body = stream.take_complete_body()
    if body is not None:
        passed = CIMultiDict(
            (name, value)
            for name, value in response_headers(headers)
            if name.lower() != "content-length"
        )
        return web.Response(status=status, body=body, headers=passed)
    response = web.StreamResponse(status=status)
    for name, value in response_headers(headers):
        response.headers.add(name, value)
    try:
        await response.prepare(request)
        while chunk := await stream.read():
            await response.write(chunk)
    except StreamReset:
        # The body broke off: end the connection so the caller cannot take it as complete.
        response.force_close()
        if request.transport is not None:
            request.transport.close()
        return response
    except (asyncio.CancelledError, ConnectionError):
        stream.reset(ErrorCode.CANCELLED, "the caller went away")
        raise
    await response.write_eof()
    return response


def _read_route(request: web.Request) -> tuple[str, str, str | None, web.Response | None]:
    """The workspace and target a tunnel or proxy request names, its bearer token (if any),
    and the refusal of bad names."""
    workspace = request.match_info["workspace"]
    target = request.match_info["target"]
    return workspace, target, bearer_token(request.headers), _check_names(workspace, target)


def _check_names(workspace: str, target: str) -> web.Response | None:
    if not _WORKSPACE.match(workspace):
        return status_response(400, f"{workspace!r} is not a valid workspace name")
    if not _TARGET.match(target):
        return status_response(400, f"{target!r} is not a valid sync target name")
    return None
