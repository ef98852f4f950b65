"""The simulator watching through the API server's wildcard `/clusters/*`: its watches do not
grow with the clusters it plays, and it still plays each of them (and no other)."""

from __future__ import annotations

from pathlib import Path

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.apiserver.http.metrics import REQUESTS, total
from pytest_syncer.harness.clusters.embedded import EmbeddedProvider
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.client import KubeClient
from pytest_syncer.status.objects import deployment
from pytest_syncer.status.simulator import SIMULATED_RESOURCES, ProfileMap, Simulator
from tests.integration.status.test_simulator import DEPLOYMENTS, condition

UNPLAYED = "not-played"


async def watches_opened(server: BackgroundAPIServer, clusters: list[str], admin: bool) -> int:
    """WATCH requests the server got while a simulator of `clusters` started and synced."""
    kubeconfigs = [server.kubeconfigs[name] for name in clusters]
    admins = [server.admin_kubeconfig] if admin else []
    async with await KubeClient.from_kubeconfig(server.admin_kubeconfig, context="*") as probe:
        before = total(await probe.metrics(), REQUESTS, verb="WATCH")
        async with Simulator(kubeconfigs, ProfileMap(), admin_kubeconfigs=admins) as simulator:
            opened = await await_until(
                probe.metrics,
                lambda text: total(text, REQUESTS, verb="WATCH") - before >= simulator.watches,
                what=f"{simulator.watches} watches opened",
                timeout=20,
            )
        return int(total(opened, REQUESTS, verb="WATCH") - before)


async def test_wildcard_watches_stay_one_per_resource_at_any_cluster_count(
    tmp_path: Path,
) -> None:
    resources = len(SIMULATED_RESOURCES)
    names = [f"w{index}" for index in range(6)]
    with BackgroundAPIServer(names, tmp_path) as server:
        assert await watches_opened(server, names[:2], admin=True) == resources
        assert await watches_opened(server, names, admin=True) == resources
        assert await watches_opened(server, names[:2], admin=False) == 2 * resources
        assert await watches_opened(server, names, admin=False) == 6 * resources


async def test_wildcard_plays_its_clusters_and_leaves_the_others(tmp_path: Path) -> None:
    with BackgroundAPIServer(["wa", "wb", UNPLAYED], tmp_path) as server:
        kubeconfigs = [server.kubeconfigs["wa"], server.kubeconfigs["wb"]]
        simulator = Simulator(
            kubeconfigs,
            ProfileMap(clusters={"wb": "never-ready"}),
            time_scale=0.1,
            admin_kubeconfigs=[server.admin_kubeconfig],
        )
        async with (
            simulator,
            await KubeClient.from_kubeconfig(server.kubeconfigs["wa"]) as a,
            await KubeClient.from_kubeconfig(server.kubeconfigs["wb"]) as b,
            await KubeClient.from_kubeconfig(server.kubeconfigs[UNPLAYED]) as other,
        ):
            assert simulator.watches == len(SIMULATED_RESOURCES)
            for client in (other, a, b):
                await client.create(DEPLOYMENTS, deployment("web", "default", [], replicas=2))
            await await_until(
                lambda: a.get(DEPLOYMENTS, "web", "default"),
                lambda obj: condition(obj, "Available") == "True",
                what="wa's Deployment available (healthy profile)",
                timeout=20,
            )
            await await_until(
                lambda: b.get(DEPLOYMENTS, "web", "default"),
                lambda obj: condition(obj, "Available") == "False",
                what="wb's Deployment unavailable (never-ready profile)",
                timeout=20,
            )
            untouched = await other.get(DEPLOYMENTS, "web", "default")
            assert not untouched.get("status"), "a cluster the simulator does not play"


async def _watches_on(admin: Path) -> int:
    async with await KubeClient.from_kubeconfig(admin, context="*") as client:
        return int(total(await client.metrics(), REQUESTS, verb="WATCH"))


async def test_the_embedded_provider_watches_once_per_resource_per_api_server_process(
    tmp_path: Path,
) -> None:
    """Three processes: the upstream alone in one, two targets in each of the others. The
    simulator is the only watcher there (no hub, no syncers): one watch per kind it plays on
    each process that serves targets, whatever its cluster count, and none on the upstream's."""
    provider = EmbeddedProvider(apiservers=3)
    provider.start(tmp_path, ["target-0", "target-1", "target-2", "target-3"])
    try:
        servers = provider._servers
        assert [len(server.clusters) for server in servers] == [1, 2, 2]
        admins = [server.admin for server in servers]
        assert all(admin is not None for admin in admins)
        played = len(SIMULATED_RESOURCES) + 1  # and Services: the provider runs --controllers
        expected = [0, played, played]
        for admin, wanted in zip(admins, expected, strict=True):
            assert admin is not None
            seen = await await_until(
                lambda admin=admin: _watches_on(admin),  # type: ignore[misc]
                lambda count, wanted=wanted: count >= wanted,  # type: ignore[misc]
                what=f"{wanted} watches on {admin}",
                timeout=20,
            )
            assert seen == wanted
    finally:
        provider.stop()
