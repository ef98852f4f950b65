"""The syncer's end of the tunnel: each stream the hub opens becomes one request to the
downstream API server, made with the downstream kubeconfig's own TLS and credentials.

Only paths on the allow-list are forwarded. The default lets the upstream reach the
Kubernetes API itself and nothing else the server may expose::

    /version  /healthz  /livez  /readyz  /api  /api/*  /apis  /apis/*  /openapi/*

(``*`` spans path segments; the query string is not matched). Paths with ``.`` or ``..``
segments, empty segments or encoded slashes and dots are refused before matching, so no
spelling reaches around the list. What the allowed paths may do is then bounded by the RBAC
of the downstream kubeconfig.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

from pytest_syncer.http1.pool import DEFAULT_CONNECTION_LIMIT, HTTP1Pool, HTTPError
from pytest_syncer.process.lifetime import Lifetime
from pytest_syncer.tunnel.auth import without_credentials
from pytest_syncer.tunnel.endpoint import ClusterEndpoint
from pytest_syncer.tunnel.errors import STATUS_HEADERS, status_body
from pytest_syncer.tunnel.protocol import ErrorCode, Headers
from pytest_syncer.tunnel.session import TunnelStream

log = logging.getLogger(__name__)

DEFAULT_ALLOWED_PATHS: tuple[str, ...] = (
    "/version",
    "/healthz",
    "/livez",
    "/readyz",
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/openapi/*",
)
#: Request bodies are read whole before forwarding (API requests are small; the embedded
#: server refuses bodies over 3 MiB).
MAX_REQUEST_BODY = 16 * 1024 * 1024
#: Headers that describe one hop, not the request; each hop sets its own.
HOP_BY_HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "host",
        "content-length",
    }
)
_SUSPICIOUS = re.compile(r"%(2f|2e|5c)", re.IGNORECASE)


def forwardable_headers(headers: Iterable[tuple[str, str]]) -> Headers:
    """Request headers fit to cross a hop: no credentials, nothing hop-by-hop."""
    return tuple(
        (name, value)
        for name, value in without_credentials(headers)
        if name.lower() not in HOP_BY_HOP_HEADERS
    )


def response_headers(headers: Iterable[tuple[str, str]]) -> Headers:
    """Response headers to pass back: everything but the hop-by-hop ones (Content-Length
    stays, since the body is passed on byte for byte)."""
    return tuple(
        (name, value)
        for name, value in headers
        if name.lower() not in HOP_BY_HOP_HEADERS or name.lower() == "content-length"
    )


class PathAllowList:
    """Glob patterns over the request path; ``*`` matches across ``/``."""

    def __init__(self, patterns: Sequence[str] = DEFAULT_ALLOWED_PATHS) -> None:
        self.patterns = tuple(patterns)

    def allows(self, path_and_query: str) -> bool:
        path = path_and_query.partition("?")[0]
        if not path.startswith("/") or _SUSPICIOUS.search(path) or "\\" in path:
            return False
        segments = path.split("/")[1:]
        if any(segment in ("", ".", "..") for segment in segments[:-1]) or segments[-1] in (
            ".",
            "..",
        ):
            return False
        return any(fnmatchcase(path, pattern) for pattern in self.patterns)


class DownstreamForwarder(Lifetime, start="_open_pool", stop="_close_pool"):
    """Forwards tunnel streams to one downstream API server over a keep-alive pool."""

    def __init__(
        self,
        endpoint: ClusterEndpoint,
        *,
        target: str = "",
        allowed_paths: Sequence[str] = DEFAULT_ALLOWED_PATHS,
        connection_limit: int = DEFAULT_CONNECTION_LIMIT,
    ) -> None:
        self.endpoint = endpoint
        self.target = target
        self.allow_list = PathAllowList(allowed_paths)
        self._connection_limit = connection_limit
        self._pool: HTTP1Pool | None = None
        self._own_headers: Headers = (
            (("Authorization", endpoint.authorization),) if endpoint.authorization else ()
        )

    def _open_pool(self) -> None:
        self._pool = HTTP1Pool(
            self.endpoint.base_url, self.endpoint.ssl_context, limit=self._connection_limit
        )

    def _close_pool(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    async def handle(self, stream: TunnelStream) -> None:
        """Answer one stream: a refusal as a Status, or the downstream's response verbatim."""
        request = stream.request
        pool = self._pool
        assert request is not None
        if pool is None:
            raise RuntimeError("the forwarder is not started")
        if not self.allow_list.allows(request.path):
            log.info(
                "target=%s refused %s %s: not on the path allow-list",
                self.target,
                request.method,
                request.path.partition("?")[0],
            )
            await _answer(stream, 403, f"path {request.path!r} is not reachable through the tunnel")
            return
        body = b""
        while chunk := await stream.read():
            body += chunk
            if len(body) > MAX_REQUEST_BODY:
                await _answer(stream, 413, f"request body over {MAX_REQUEST_BODY} bytes")
                return
        headers = forwardable_headers(request.headers) + self._own_headers
        try:
            exchange = await pool.request(request.method, request.path, headers, body)
        except ValueError as error:
            await _answer(stream, 400, f"the request cannot be forwarded: {error}")
            return
        except (HTTPError, OSError, TimeoutError) as error:
            self._log_failure(request.method, request.path, error)
            await _answer(stream, 502, f"the downstream API server is unreachable: {error}")
            return
        try:
            stream.send_response(exchange.head.status, response_headers(exchange.head.headers))
            async for piece in exchange.body():
                await stream.write(piece, end_stream=exchange.done)
            stream.end()
        except (HTTPError, OSError, asyncio.IncompleteReadError) as error:
            self._log_failure(request.method, request.path, error)
            stream.reset(ErrorCode.DOWNSTREAM_UNAVAILABLE, "downstream response broke off")
        finally:
            exchange.release()

    def _log_failure(self, method: str, path: str, error: BaseException) -> None:
        log.warning(
            "target=%s downstream %s %s failed: %s",
            self.target,
            method,
            path.partition("?")[0],
            error or type(error).__name__,
        )


async def _answer(stream: TunnelStream, code: int, message: str) -> None:
    stream.send_response(code, STATUS_HEADERS)
    await stream.write(status_body(code, message), end_stream=True)
