"""The hub: the upstream-side services of pytest-syncer in one HTTPS server.

For now it is the tunnel server (tunnels from the syncers, the proxy to their clusters); more
services join as :class:`HubComponent` objects that add routes to the same application. The
hub serves HTTPS with a CA of its own, kept in ``--state-dir`` so a restart keeps every
syncer's ``--tunnel-ca-file`` valid; it prints ``{"url", "ca"}`` once it serves.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import ipaddress
import shutil
import ssl
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from pytest_syncer.apiserver.certs import (
    CA_CERT_FILE,
    CertificateAuthority,
    server_ssl_context,
)
from pytest_syncer.hub.aggregator import DEFAULT_HEARTBEAT_THRESHOLD, StatusAggregator
from pytest_syncer.process.child import (
    AsyncService,
    configure_logging,
    run_service,
)
from pytest_syncer.process.listener import ListenerSite
from pytest_syncer.tunnel.auth import TokenAuthority
from pytest_syncer.tunnel.endpoint import ClusterEndpoint
from pytest_syncer.tunnel.server import MAX_PROXIED_BODY, TokenReviewer, TunnelServer

DEFAULT_HEADER_TIMEOUT_SECONDS = 30.0
"""A connection that has not sent a whole request head this long after it opened (or after
its last response) is closed, so slowloris and half-open clients cannot pile up."""


class HubComponent(Protocol):
    """A service that lives in the hub's application."""

    def add_routes(self, app: web.Application) -> None: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class Hub(AsyncService):
    """The hub as an async context manager; ``url`` and ``ca_file`` are set once it serves."""

    def __init__(
        self,
        upstream_kubeconfig: Path,
        token_secret_file: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        state_dir: Path | None = None,
        insecure_http: bool = False,
        client_ca_file: Path | None = None,
        response_timeout: float = 30.0,
        drain_timeout: float = 60.0,
        ping_interval: float = 20.0,
        review_ttl: float = 10.0,
        header_timeout: float = DEFAULT_HEADER_TIMEOUT_SECONDS,
        components: Sequence[HubComponent] = (),
    ) -> None:
        self._upstream_kubeconfig = upstream_kubeconfig
        self._token_secret_file = token_secret_file
        self._host = host
        self._port = port
        self._state_dir = state_dir
        self._insecure_http = insecure_http
        self._client_ca_file = client_ca_file
        self._response_timeout = response_timeout
        self._drain_timeout = drain_timeout
        self._ping_interval = ping_interval
        self._review_ttl = review_ttl
        self._header_timeout = header_timeout
        self._extra_components = list(components)
        self._runner: web.AppRunner | None = None
        self._temporary_state: Path | None = None
        self._started: list[HubComponent] = []
        self.url = ""
        self.ca_file: Path | None = None
        self.tunnels: TunnelServer | None = None

    def ready_payload(self) -> dict[str, Any]:
        return {"url": self.url, "ca": str(self.ca_file) if self.ca_file else None}

    async def _start(self) -> None:
        authority = TokenAuthority.from_file(self._token_secret_file)
        upstream = ClusterEndpoint.from_kubeconfig(self._upstream_kubeconfig)
        self.tunnels = TunnelServer(
            authority,
            TokenReviewer(upstream, ttl=self._review_ttl),
            response_timeout=self._response_timeout,
            drain_timeout=self._drain_timeout,
            ping_interval=self._ping_interval,
            require_client_certificate=self._client_ca_file is not None,
        )
        components: list[HubComponent] = [self.tunnels, *self._extra_components]
        app = web.Application(client_max_size=MAX_PROXIED_BODY)
        app.router.add_get("/healthz", _healthz)
        for component in components:
            component.add_routes(app)
        for component in components:
            await component.start()
            self._started.append(component)
        ssl_context = None if self._insecure_http else self._ssl_context()
        # Cancelling the handler of a caller that hung up frees its tunnel stream at once,
        # even for an idle watch that would otherwise notice only at its next event. The
        # keep-alive timer runs until a request head is complete: the header timeout.
        self._runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            handler_cancellation=True,
            keepalive_timeout=self._header_timeout,
        )
        await self._runner.setup()
        site = ListenerSite(self._runner, self._host, self._port, ssl_context=ssl_context)
        await site.start()
        port = self._runner.addresses[0][1]
        shown_host = "127.0.0.1" if self._host in ("0.0.0.0", "") else self._host
        scheme = "http" if ssl_context is None else "https"
        self.url = f"{scheme}://{shown_host}:{port}"

    def _ssl_context(self) -> ssl.SSLContext:
        state_dir = self._state_dir
        if state_dir is None:
            state_dir = self._temporary_state = Path(tempfile.mkdtemp(prefix="pytest-syncer-hub-"))
        authority = CertificateAuthority.load_or_create(state_dir, "pytest-syncer-hub-ca")
        self.ca_file = state_dir / CA_CERT_FILE
        addresses = {"127.0.0.1"}
        hostnames = ["localhost"]
        try:
            if self._host not in ("", "0.0.0.0"):
                addresses.add(str(ipaddress.ip_address(self._host)))
        except ValueError:
            hostnames.append(self._host)
        context = server_ssl_context(
            *authority.issue_server_certificate(hostnames, sorted(addresses))
        )
        if self._client_ca_file is not None:
            context.verify_mode = ssl.CERT_OPTIONAL
            context.load_verify_locations(cafile=str(self._client_ca_file))
        return context

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.shutdown()
        for component in reversed(self._started):
            await component.close()
        self._started.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._temporary_state is not None:
            shutil.rmtree(self._temporary_state, ignore_errors=True)
            self._temporary_state = None


async def _healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


@contextlib.asynccontextmanager
async def serving(hub: Hub) -> AsyncIterator[dict[str, Any]]:
    """The hub as ``run_service`` wants it: entering yields the ready payload."""
    async with hub:
        yield hub.ready_payload()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytest-syncer hub",
        description="Serve the upstream side: tunnels from syncers, the proxy through them, "
        "and the status aggregator.",
    )
    parser.add_argument("--upstream-kubeconfig", type=Path, required=True)
    parser.add_argument("--token-secret-file", type=Path, required=True)
    hub = inspect.signature(Hub).parameters
    parser.add_argument("--host", default=hub["host"].default)
    parser.add_argument("--port", type=int, default=hub["port"].default, help="0 picks a free port")
    parser.add_argument(
        "--state-dir", type=Path, help="keep the hub's CA here (default: a temporary dir)"
    )
    parser.add_argument("--insecure-http", action="store_true", help="serve plain HTTP")
    parser.add_argument(
        "--client-ca-file",
        type=Path,
        help="also require tunnel client certificates from this CA naming the target",
    )
    parser.add_argument(
        "--response-timeout", type=float, default=hub["response_timeout"].default, metavar="S"
    )
    parser.add_argument(
        "--drain-timeout", type=float, default=hub["drain_timeout"].default, metavar="S"
    )
    parser.add_argument(
        "--ping-interval", type=float, default=hub["ping_interval"].default, metavar="S"
    )
    parser.add_argument("--review-ttl", type=float, default=hub["review_ttl"].default, metavar="S")
    parser.add_argument(
        "--header-timeout",
        type=float,
        default=hub["header_timeout"].default,
        metavar="S",
        help="close a connection that sends no whole request head for this long (slowloris)",
    )
    parser.add_argument(
        "--heartbeat-threshold",
        type=float,
        default=DEFAULT_HEARTBEAT_THRESHOLD,
        metavar="S",
        help="a target whose syncer heartbeat is older is reported stale in workload status",
    )
    parser.add_argument("--log-level", default="INFO")
    return parser


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    configure_logging("hub", args.log_level)
    try:
        TokenAuthority.from_file(args.token_secret_file)
        ClusterEndpoint.from_kubeconfig(args.upstream_kubeconfig)
    except Exception as error:
        # Say which input is wrong instead of dying with a traceback.
        print(f"pytest-syncer hub: {type(error).__name__}: {error}", file=sys.stderr)
        return 2

    def factory() -> AbstractAsyncContextManager[dict[str, Any]]:
        return serving(
            Hub(
                args.upstream_kubeconfig,
                args.token_secret_file,
                host=args.host,
                port=args.port,
                state_dir=args.state_dir,
                insecure_http=args.insecure_http,
                client_ca_file=args.client_ca_file,
                response_timeout=args.response_timeout,
                drain_timeout=args.drain_timeout,
                ping_interval=args.ping_interval,
                review_ttl=args.review_ttl,
                header_timeout=args.header_timeout,
                components=[
                    StatusAggregator(
                        args.upstream_kubeconfig, heartbeat_threshold=args.heartbeat_threshold
                    )
                ],
            )
        )

    return run_service(factory)
