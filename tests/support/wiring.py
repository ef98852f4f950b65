"""Target wirings for tests that build a syncer fleet without starting a syncer."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pytest_syncer.contract.wiring import TargetWiring
from pytest_syncer.harness.syncers import ReferenceSyncer, SyncerProcess


def unstarted_wirings(names: Iterable[str], directory: Path) -> dict[str, TargetWiring]:
    """A wiring per target name, its files under ``directory`` (never created) and its tunnel on
    a port nothing serves: enough for the fleet to build command lines."""
    return {
        name: TargetWiring(
            upstream_kubeconfig=directory / "upstream.kubeconfig",
            downstream_kubeconfig=directory / f"{name}.kubeconfig",
            target=name,
            upstream_cluster="upstream",
            tunnel_url="https://127.0.0.1:1",
            tunnel_token_file=directory / "token",
            tunnel_ca_file=directory / "ca.crt",
        )
        for name in names
    }


def flag_value(process: SyncerProcess, flag: str) -> float:
    """The one ``--<flag>=<seconds>`` on a reference syncer's command line."""
    assert isinstance(process, ReferenceSyncer)
    [value] = [arg.split("=", 1)[1] for arg in process.argv if arg.startswith(f"--{flag}=")]
    return float(value)
