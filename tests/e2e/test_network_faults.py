"""Faults on one link of one syncer (`--syncer-network-faults on`), and what the syncer, the hub
and the tunnel must do about each."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException

from pytest_syncer.harness.environment import HUB_PING_INTERVAL, SyncerEnvironment
from pytest_syncer.harness.faults import Faults
from pytest_syncer.harness.netfaults.proxy import ConnectionRecord, Link
from pytest_syncer.harness.syncers import FAST_FLAGS
from pytest_syncer.harness.tunnel_client import TunnelClient
from pytest_syncer.harness.waiting import wait_until
from pytest_syncer.harness.workloads import WorkloadFactory
from tests.e2e.cut_off import goes_stale_then_converges

pytestmark = pytest.mark.syncer_e2e

ISSUE_BAR = 30.0
"""Both ends must notice a silent tunnel within this many seconds, whatever the syncer."""
SLACK = 2.0
"""Scheduling on a loaded machine: a keepalive timer fires late, never early."""
RESETS = 100
SOCKETS_SLACK = 10
"""Sockets a process may open or close on its own meanwhile (watches, the API server's)."""


def _flag(name: str) -> float:
    [value] = [flag.split("=", 1)[1] for flag in FAST_FLAGS if flag.startswith(f"{name}=")]
    return float(value)


SYNCER_CLOSE_TIMEOUT = 2.0
"""The tunnel manager's websocket close_timeout: how long it waits for the close handshake."""


def syncer_keepalive(env: SyncerEnvironment) -> float:
    """The reference syncer pings every interval, gives up a timeout after a ping with no pong,
    and closes its socket after the close handshake's timeout: 2 + 4 + 2 = 8 s with the
    harness's flags. Another syncer's figure is its own."""
    if env.config.command is not None:
        return ISSUE_BAR
    return _flag("--tunnel-ping-interval") + _flag("--tunnel-ping-timeout") + SYNCER_CLOSE_TIMEOUT


HUB_KEEPALIVE = HUB_PING_INTERVAL * 1.5
"""aiohttp's heartbeat: a ping after an idle interval, the peer dropped half an interval later."""


def live(link: Link) -> list[ConnectionRecord]:
    return [record for record in link.history() if record.open]


def sockets(pid: int) -> int:
    """The sockets process `pid` holds open now."""
    fds = f"/proc/{pid}/fd"
    count = 0
    for fd in os.listdir(fds):
        try:
            count += os.readlink(f"{fds}/{fd}").startswith("socket:")
        except FileNotFoundError:
            continue
    return count


@pytest.mark.conformance("faults.tunnel-blackhole.recovery")
def test_a_blackholed_tunnel_is_noticed_by_both_ends_and_redialled_after_heal(
    faults: Faults,
    tunnel_client: TunnelClient,
    workload: WorkloadFactory,
) -> None:
    settings = workload("configmap.yaml", targets=1)
    settings.wait_synced()
    [victim] = settings.placed
    below = settings.downstream_namespace(victim)
    through = k8s_client.CoreV1Api(tunnel_client.api(victim))
    assert through.read_namespaced_config_map("settings", below).data
    tunnel = faults.link(victim, "tunnel")
    [connection] = live(tunnel)
    cut = time.monotonic()
    tunnel.blackhole()

    def proxied_request() -> tuple[int, float]:
        """A request through the hub sent into the silent tunnel: its status, and when."""
        try:
            through.read_namespaced_config_map("settings", below, _request_timeout=120)
        except ApiException as error:
            return int(error.status), time.monotonic()
        return 200, time.monotonic()

    syncer_figure = syncer_keepalive(faults.env)
    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(proxied_request)
        noticed = wait_until(
            lambda: next(r for r in tunnel.history() if r.opened == connection.opened),
            lambda r: r.syncer_closed is not None,
            what=f"{victim}'s syncer giving up its silent tunnel within {syncer_figure:g}s",
            timeout=syncer_figure + SLACK,
            interval=0.1,
        )
        status, answered = in_flight.result(timeout=HUB_KEEPALIVE + SLACK)
    assert noticed.syncer_closed is not None
    syncer_s, hub_s = noticed.syncer_closed - cut, answered - cut
    print(f"silent tunnel noticed: syncer after {syncer_s:.2f}s, hub after {hub_s:.2f}s")
    assert syncer_s <= syncer_figure + SLACK, f"the syncer took {syncer_s:.1f}s"
    assert status == 503, f"the request in flight through the dead tunnel got {status}"
    assert hub_s <= HUB_KEEPALIVE + SLACK, f"the hub answered the request after {hub_s:.1f}s"
    tunnel.heal()
    found = wait_until(
        lambda: through.read_namespaced_config_map("settings", below, _request_timeout=10),
        lambda _: True,
        what=f"{victim}'s tunnel redialled after the heal",
        timeout=30,
        interval=0.2,
    )
    assert found.data == {"mode": "production", "replicas": "2"}
    assert len(live(tunnel)) == 1


@pytest.mark.conformance("faults.upstream-blackhole.recovery")
def test_a_syncer_with_a_blackholed_upstream_goes_stale_and_loses_no_update(
    faults: Faults, workload: WorkloadFactory
) -> None:
    def blackhole_upstream(victim: str) -> None:
        faults.link(victim, "upstream").blackhole()

    updates = [{"spec": {"replicas": 5}}, {"spec": {"replicas": 4}}]
    goes_stale_then_converges(faults, workload, blackhole_upstream, updates)


@pytest.mark.conformance("faults.tunnel-reset.no-leak")
def test_a_reset_storm_on_the_tunnel_leaks_no_socket(
    faults: Faults, tunnel_client: TunnelClient, workload: WorkloadFactory
) -> None:
    settings = workload("configmap.yaml", targets=1)
    settings.wait_synced()
    [victim] = settings.placed
    below = settings.downstream_namespace(victim)
    through = k8s_client.CoreV1Api(tunnel_client.api(victim))
    tunnel = faults.link(victim, "tunnel")
    env = faults.env
    hub = env.hub.pid
    syncer = env.syncers.process_of(victim).pid
    assert syncer is not None

    def reachable(what: str) -> None:
        wait_until(
            lambda: through.read_namespaced_config_map("settings", below, _request_timeout=5),
            lambda _: True,
            what=what,
            timeout=30,
            interval=0.05,
        )

    def counts() -> dict[str, int]:
        return {"hub": sockets(hub), "syncer": sockets(syncer)}

    reachable(f"{victim}'s tunnel before the storm")
    before = counts()
    for round_ in range(RESETS):
        tunnel.reset()
        tunnel.heal()
        reachable(f"{victim}'s tunnel back after reset {round_ + 1} of {RESETS}")
    assert tunnel.accepted > RESETS
    wait_until(
        counts,
        lambda now: all(now[name] <= before[name] + SOCKETS_SLACK for name in now),
        what=f"the hub's and the syncer's sockets back to {before} (give or take "
        f"{SOCKETS_SLACK}) after {RESETS} resets",
        timeout=30,
        interval=0.5,
    )
    wait_until(
        lambda: tunnel.connections,
        lambda count: count == 1,
        what=f"one connection left on {victim}'s tunnel link",
        timeout=30,
        interval=0.2,
    )


@pytest.mark.conformance("faults.downstream-down.reported")
def test_with_its_cluster_unreachable_a_target_says_so_and_nothing_upstream_is_lost(
    faults: Faults, workload: WorkloadFactory
) -> None:
    victim = faults.pick_target()
    [bystander] = workload.choose(1, exclude=[victim])
    settings = workload("configmap.yaml", targets=[victim, bystander])
    settings.wait_synced()
    faults.link(victim, "downstream").reset()
    updated = settings.update({"data": {"mode": "while-unreachable"}})
    settings.wait_synced([bystander])

    def status_of_victim() -> dict[str, Any]:
        found = settings.sync_status(victim)
        return dict((found or {}).get("status") or {})

    said = wait_until(
        status_of_victim,
        lambda status: status.get("phase") == "Failed",
        what=f"{victim}'s SyncStatus saying its cluster does not answer",
        timeout=30,
        interval=0.3,
    )
    [synced] = [c for c in said.get("conditions") or [] if c["type"] == "Synced"]
    assert synced["status"] == "False"
    assert "the target's cluster did not answer" in synced["message"]
    assert settings.get()["data"] == updated["data"]
    faults.heal()
    settings.wait_converged()
    settings.wait_phase("Synced", [victim])
