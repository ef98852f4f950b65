"""`pytest-syncer syncer`: the reference syncer, one target or a pool of them in one process.

The flags are the syncer command-line contract (docs/syncer.md; kcp's syncer names the same
things), so the harness drives this and any other syncer alike. Pooled mode
(`--sync-targets-file`) runs many targets on one event loop with one upstream connection pool;
each target keeps its own informers, queue and log prefix.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pytest_syncer.contract.wiring import POOL_ENTRY_FIELDS
from pytest_syncer.kubeclient.client import KubeClient
from pytest_syncer.process.child import configure_logging, run_service
from pytest_syncer.syncer.engine.settings import EngineSettings, StatusMode
from pytest_syncer.syncer.engine.target import TargetSyncer, resolve_resources
from pytest_syncer.syncer.engine.upstream import SharedUpstream
from pytest_syncer.syncer.interfaces import ConflictStrategy
from pytest_syncer.tunnel.agent import (
    add_tunnel_arguments,
    forwarder_from_arguments,
    manager_from_arguments,
)

log = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 600.0


@dataclass(frozen=True)
class TargetConfig:
    """One target of a syncer process: its name, its cluster and, maybe, its tunnel."""

    name: str
    downstream_kubeconfig: Path
    tunnel_url: str | None = None
    tunnel_token_file: Path | None = None
    tunnel_ca_file: Path | None = None


class TargetsFileError(ValueError):
    """A `--sync-targets-file` that is not a list of targets."""


def load_targets_file(path: Path) -> list[TargetConfig]:
    """Read a YAML or JSON list of `POOL_ENTRY_FIELDS` entries; paths are relative to the
    file."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise TargetsFileError(f"{path}: {error}") from None
    if isinstance(data, dict):
        data = data.get("targets")
    if not isinstance(data, list) or not data:
        raise TargetsFileError(f"{path}: expected a non-empty list of targets")
    base = path.parent
    targets: list[TargetConfig] = []
    for index, entry in enumerate(data):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise TargetsFileError(f"{path}: entry {index} needs a string `name`")
        kubeconfig = entry.get("downstream_kubeconfig")
        if not isinstance(kubeconfig, str):
            raise TargetsFileError(f"{path}: target {entry['name']} needs `downstream_kubeconfig`")

        def local(value: object) -> Path | None:
            return None if value is None else base / str(value)

        targets.append(
            TargetConfig(
                name=entry["name"],
                downstream_kubeconfig=base / kubeconfig,
                tunnel_url=entry.get("tunnel_url"),
                tunnel_token_file=local(entry.get("tunnel_token_file")),
                tunnel_ca_file=local(entry.get("tunnel_ca_file")),
            )
        )
    names = [target.name for target in targets]
    if len(set(names)) != len(names):
        raise TargetsFileError(f"{path}: target names repeat: {names}")
    return targets


def settings_from_arguments(args: argparse.Namespace) -> EngineSettings:
    return EngineSettings(
        resources=tuple(name.strip() for name in args.resources.split(",") if name.strip()),
        conflict_strategy=ConflictStrategy(args.conflict_strategy),
        heartbeat_interval=args.heartbeat_interval,
        resync_period=args.resync_period,
        namespace_cleanup_delay=args.namespace_cleanup_delay,
        workers=args.workers,
        status_mode=StatusMode(args.status_mode),
    )


@contextlib.asynccontextmanager
async def _tunnel(
    args: argparse.Namespace, target: TargetConfig, workspace: str
) -> AsyncIterator[str | None]:
    """The tunnel client of one target, when it has a tunnel URL."""
    if target.tunnel_url is None:
        yield None
        return
    tunnel_args = argparse.Namespace(
        **{
            **vars(args),
            "tunnel_url": target.tunnel_url,
            "tunnel_token_file": target.tunnel_token_file,
            "tunnel_ca_file": target.tunnel_ca_file,
        }
    )
    forwarder = forwarder_from_arguments(tunnel_args, target.downstream_kubeconfig, target.name)
    async with forwarder:
        manager = manager_from_arguments(tunnel_args, forwarder, workspace, target.name)
        async with manager:
            yield manager.url


@contextlib.asynccontextmanager
async def running_syncer(
    args: argparse.Namespace, targets: list[TargetConfig]
) -> AsyncIterator[dict[str, Any]]:
    """Every target of this process, ready; the ready line's payload."""
    settings = settings_from_arguments(args)
    async with contextlib.AsyncExitStack() as stack:
        upstream = await KubeClient.from_kubeconfig(
            args.upstream_kubeconfig, share_connections=True
        )
        stack.push_async_callback(upstream.close)
        cluster = args.upstream_cluster or upstream.logical_cluster
        if not cluster:
            raise SystemExit(
                "--upstream-cluster is required: the upstream kubeconfig's server URL "
                f"({upstream.server}) has no /clusters/<name> segment"
            )
        resources = await resolve_resources(upstream, settings.resources)
        shared = SharedUpstream(upstream, resources, cluster, [target.name for target in targets])
        stack.push_async_callback(shared.stop)
        downstreams: dict[Path, KubeClient] = {}
        syncers: list[TargetSyncer] = []
        tunnels: dict[str, str | None] = {}
        for target in targets:
            path = target.downstream_kubeconfig.resolve()
            if path not in downstreams:
                downstreams[path] = await KubeClient.from_kubeconfig(path, share_connections=True)
                stack.push_async_callback(downstreams[path].close)
            tunnels[target.name] = await stack.enter_async_context(_tunnel(args, target, cluster))
            syncer = TargetSyncer(
                upstream, downstreams[path], target.name, cluster, shared, settings
            )
            syncers.append(await stack.enter_async_context(syncer))
        await shared.start()
        await asyncio.gather(*(syncer.wait_ready(READY_TIMEOUT_SECONDS) for syncer in syncers))
        yield {
            "upstream": upstream.server,
            "upstream_cluster": cluster,
            "resources": [resource.qualified_name for resource in resources],
            "targets": [
                {"name": s.target_name, "key": s.key, "tunnel_url": tunnels[s.target_name]}
                for s in syncers
            ],
        }
        log.info("stopping %d targets", len(syncers))


def build_parser() -> argparse.ArgumentParser:
    defaults = EngineSettings()
    parser = argparse.ArgumentParser(
        prog="pytest-syncer syncer",
        description="Sync workloads placed on a sync target from an upstream workspace down to "
        "the target's cluster; the flags are the contract every syncer under test honours.",
    )
    parser.add_argument("--upstream-kubeconfig", type=Path, required=True)
    parser.add_argument("--downstream-kubeconfig", type=Path, help="the target's cluster")
    parser.add_argument("--sync-target", help="the SyncTarget's name upstream")
    parser.add_argument(
        "--sync-targets-file",
        type=Path,
        help="pooled mode: a YAML/JSON list of {" + ", ".join(POOL_ENTRY_FIELDS) + "}, all "
        "served by this process",
    )
    parser.add_argument(
        "--upstream-cluster",
        help="the upstream logical cluster (default: the segment after /clusters/ in the "
        "upstream kubeconfig's server URL)",
    )
    parser.add_argument(
        "--resources",
        default=",".join(defaults.resources),
        help="comma-separated resource.group names to sync (default: every built-in kind)",
    )
    parser.add_argument(
        "--conflict-strategy",
        choices=[strategy.value for strategy in ConflictStrategy],
        default=defaults.conflict_strategy.value,
        help="for objects without the workload.kcp.io/conflict-strategy annotation",
    )
    parser.add_argument(
        "--heartbeat-interval", type=float, default=defaults.heartbeat_interval, metavar="S"
    )
    parser.add_argument(
        "--status-mode",
        choices=[mode.value for mode in StatusMode],
        default=defaults.status_mode.value,
        help="where downstream status goes up: SyncStatus objects, or kcp's annotation",
    )
    parser.add_argument("--resync-period", type=float, default=defaults.resync_period, metavar="S")
    parser.add_argument(
        "--namespace-cleanup-delay",
        type=float,
        default=defaults.namespace_cleanup_delay,
        metavar="S",
        help="how long a namespace below stays empty before it is deleted",
    )
    parser.add_argument(
        "--workers", type=int, default=defaults.workers, help="reconciles in flight per target"
    )
    parser.add_argument("--log-level", default="INFO")
    add_tunnel_arguments(parser)
    return parser


def targets_from_arguments(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> list[TargetConfig]:
    if args.sync_targets_file is not None:
        if args.sync_target or args.downstream_kubeconfig:
            parser.error("--sync-targets-file replaces --sync-target and --downstream-kubeconfig")
        try:
            return load_targets_file(args.sync_targets_file)
        except TargetsFileError as error:
            parser.error(str(error))
    if not args.sync_target or not args.downstream_kubeconfig:
        parser.error("give --sync-target and --downstream-kubeconfig, or --sync-targets-file")
    if args.tunnel_url is not None and args.tunnel_token_file is None:
        parser.error("--tunnel-url needs --tunnel-token-file")
    return [
        TargetConfig(
            args.sync_target,
            args.downstream_kubeconfig,
            args.tunnel_url,
            args.tunnel_token_file,
            args.tunnel_ca_file,
        )
    ]


def main(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    targets = targets_from_arguments(parser, args)
    configure_logging("syncer", args.log_level)
    log.info(
        "syncing %d target(s): %s", len(targets), json.dumps([target.name for target in targets])
    )
    return run_service(lambda: running_syncer(args, targets))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
