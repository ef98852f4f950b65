"""``pytest-syncer apiserver``: serve logical clusters and write their kubeconfigs."""

from __future__ import annotations

import argparse
import logging
import resource
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from pytest_syncer.apiserver.api.admission import PLUGINS, UnknownAdmissionPluginError, plugin_names
from pytest_syncer.apiserver.http.paths import is_valid_cluster_name
from pytest_syncer.apiserver.server import (
    DEFAULT_BOOKMARK_INTERVAL_SECONDS,
    DEFAULT_HEADER_TIMEOUT_SECONDS,
    DEFAULT_WATCH_RETENTION_SECONDS,
    EmbeddedAPIServer,
)
from pytest_syncer.process.child import configure_logging, run_service

logger = logging.getLogger(__name__)


def _cluster_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    for name in names:
        if not is_valid_cluster_name(name):
            raise argparse.ArgumentTypeError(f"invalid logical cluster name {name!r}")
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError("a cluster is named twice")
    return names


def _cluster_plugins(text: str) -> tuple[str, tuple[str, ...]]:
    cluster, equals, names = text.partition("=")
    cluster = cluster.strip()
    if not equals or not is_valid_cluster_name(cluster):
        raise argparse.ArgumentTypeError(
            f"expected CLUSTER=PLUGIN[,PLUGIN...] with a logical cluster name, got {text!r}"
        )
    try:
        plugins = plugin_names(name.strip() for name in names.split(",") if name.strip())
    except UnknownAdmissionPluginError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return cluster, plugins


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytest-syncer apiserver",
        description="Serve logical clusters under /clusters/<name>/ over the Kubernetes API, "
        "write DIR/<cluster>.kubeconfig and DIR/admin.kubeconfig, print one JSON ready line.",
    )
    parser.add_argument(
        "--clusters",
        type=_cluster_list,
        default=[],
        help="comma-separated logical cluster names, e.g. upstream,target-1",
    )
    parser.add_argument("--kubeconfig-dir", type=Path, required=True, metavar="DIR")
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="persist objects (SQLite, WAL), the CA, tokens and clusters here; "
        "without it everything lives in memory",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=0,
        help="0 picks a free port (or the one a data dir remembers)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--insecure-http", action="store_true", help="serve plain HTTP, not HTTPS")
    parser.add_argument(
        "--watch-retention",
        type=_positive,
        default=DEFAULT_WATCH_RETENTION_SECONDS,
        metavar="SECONDS",
        help="how long watch events are kept for watches resuming from a resourceVersion",
    )
    parser.add_argument(
        "--bookmark-interval",
        type=_positive,
        default=DEFAULT_BOOKMARK_INTERVAL_SECONDS,
        metavar="SECONDS",
    )
    parser.add_argument(
        "--header-timeout",
        type=_positive,
        default=DEFAULT_HEADER_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="close a connection that sends no whole request head for this long (slowloris)",
    )
    parser.add_argument(
        "--enable-admission-plugins",
        type=_cluster_plugins,
        action="append",
        default=[],
        metavar="CLUSTER=PLUGIN[,PLUGIN...]",
        help="admission plugins one logical cluster runs (repeat per cluster; CLUSTER= runs "
        f"none, overriding a data dir); known: {', '.join(sorted(PLUGINS))}",
    )
    parser.add_argument("--log-level", default="INFO")
    return parser


def _admission_plugins(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> dict[str, tuple[str, ...]]:
    """Per cluster, checked against --clusters (a data dir may remember more clusters)."""
    plugins: dict[str, tuple[str, ...]] = {}
    for cluster, names in args.enable_admission_plugins:
        if cluster in plugins:
            parser.error(f"--enable-admission-plugins names cluster {cluster!r} twice")
        if args.data_dir is None and cluster not in args.clusters:
            parser.error(f"--enable-admission-plugins names {cluster!r}, not in --clusters")
        plugins[cluster] = names
    return plugins


def raise_open_file_limit() -> int:
    """Lift the soft limit on open files to the hard one and return it: every watch is a
    connection of its own, and 1000 targets hold ~20000 of them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):
            return soft
        return wanted
    return soft


def main(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    admission_plugins = _admission_plugins(parser, args)
    configure_logging("apiserver", args.log_level)
    open_files = raise_open_file_limit()
    server = EmbeddedAPIServer(
        args.clusters,
        args.kubeconfig_dir,
        data_dir=args.data_dir,
        port=args.port,
        host=args.host,
        insecure_http=args.insecure_http,
        watch_retention=args.watch_retention,
        bookmark_interval=args.bookmark_interval,
        header_timeout=args.header_timeout,
        admission_plugins=admission_plugins,
    )

    @asynccontextmanager
    async def serving() -> AsyncIterator[dict[str, Any]]:
        async with server:
            logger.info("may open %d files", open_files)
            yield {**server.ready_payload(), "open_files_limit": open_files}

    # It only accepts connections, where uvloop pays and its open bug does not bite.
    return run_service(serving, loop="uvloop")
