"""The tunnel half of a syncer, as flags any command can take, and as a process of its own.

The syncer (``pytest-syncer syncer``) adds these flags with :func:`add_tunnel_arguments` and
builds its manager with :func:`manager_from_arguments`; ``python -m pytest_syncer.tunnel.agent``
runs the tunnel alone (tests and the tunnel benchmark kill and restart it as a real process).
It prints ``{"target", "tunnel_url"}`` when it runs, whether or not the hub is up yet.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from pytest_syncer.process.child import configure_logging, run_service
from pytest_syncer.tunnel.client import DEFAULT_ALLOWED_PATHS, DownstreamForwarder
from pytest_syncer.tunnel.endpoint import ClusterEndpoint
from pytest_syncer.tunnel.manager import Backoff, TunnelManager
from pytest_syncer.tunnel.server import tunnel_url

log = logging.getLogger(__name__)


def add_tunnel_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("tunnel")
    group.add_argument("--tunnel-url", help="the hub's URL; no tunnel without it")
    group.add_argument("--tunnel-token-file", type=Path, help="a token from `pytest-syncer token`")
    group.add_argument("--tunnel-ca-file", type=Path, help="the hub's CA (its ready line's `ca`)")
    group.add_argument("--tunnel-client-cert", type=Path, help="client certificate for the hub")
    group.add_argument("--tunnel-client-key", type=Path, help="its private key")
    group.add_argument(
        "--tunnel-allow-path",
        action="append",
        metavar="GLOB",
        help="paths the upstream may reach downstream (repeat; default: "
        + " ".join(DEFAULT_ALLOWED_PATHS)
        + ")",
    )
    group.add_argument("--tunnel-backoff-initial", type=float, default=5.0, metavar="S")
    group.add_argument("--tunnel-backoff-max", type=float, default=300.0, metavar="S")
    group.add_argument("--tunnel-ping-interval", type=float, default=20.0, metavar="S")
    group.add_argument("--tunnel-ping-timeout", type=float, default=20.0, metavar="S")
    group.add_argument("--tunnel-drain-timeout", type=float, default=10.0, metavar="S")


def manager_from_arguments(
    args: argparse.Namespace, forwarder: DownstreamForwarder, workspace: str, target: str
) -> TunnelManager:
    """The manager the tunnel flags describe; the caller enters it (and the forwarder)."""
    if args.tunnel_token_file is None:
        raise ValueError("--tunnel-url needs --tunnel-token-file")
    certificate = None
    if args.tunnel_client_cert is not None:
        certificate = (args.tunnel_client_cert, args.tunnel_client_key or args.tunnel_client_cert)
    return TunnelManager(
        tunnel_url(args.tunnel_url, workspace, target),
        forwarder,
        token_file=args.tunnel_token_file,
        ca_file=args.tunnel_ca_file,
        client_certificate=certificate,
        backoff=Backoff(args.tunnel_backoff_initial, args.tunnel_backoff_max),
        ping_interval=args.tunnel_ping_interval,
        ping_timeout=args.tunnel_ping_timeout,
        drain_timeout=args.tunnel_drain_timeout,
        name=target,
    )


def forwarder_from_arguments(
    args: argparse.Namespace, downstream_kubeconfig: Path, target: str
) -> DownstreamForwarder:
    return DownstreamForwarder(
        ClusterEndpoint.from_kubeconfig(downstream_kubeconfig),
        target=target,
        allowed_paths=args.tunnel_allow_path or DEFAULT_ALLOWED_PATHS,
    )


@contextlib.asynccontextmanager
async def _running(args: argparse.Namespace) -> AsyncIterator[dict[str, Any]]:
    forwarder = forwarder_from_arguments(args, args.downstream_kubeconfig, args.sync_target)
    async with forwarder:
        manager = manager_from_arguments(args, forwarder, args.upstream_cluster, args.sync_target)
        async with manager:
            yield {"target": args.sync_target, "tunnel_url": manager.url}
            log.info("target=%s tunnel stopping: %s", args.sync_target, manager.health())


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pytest_syncer.tunnel.agent",
        description="Keep one sync target's tunnel to the hub open and serve it.",
    )
    parser.add_argument("--downstream-kubeconfig", type=Path, required=True)
    parser.add_argument("--sync-target", required=True)
    parser.add_argument("--upstream-cluster", required=True, help="the workspace of the target")
    parser.add_argument("--log-level", default="INFO")
    add_tunnel_arguments(parser)
    args = parser.parse_args(argv)
    if args.tunnel_url is None:
        parser.error("--tunnel-url is required")
    configure_logging("tunnel-agent", args.log_level)
    return run_service(lambda: _running(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
