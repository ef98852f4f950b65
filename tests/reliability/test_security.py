"""Auth boundaries on the real environment, with the credentials its own syncers hold.

tests/integration/tunnel/test_auth.py already refuses tokens that are missing, forged,
expired, for another target or another workspace, on the tunnel and the proxy of a small
rig. Here: a target's syncer (its tunnel token, its downstream kubeconfig's token) can neither
read nor write another target's cluster through the hub_client, cannot take over another target's
tunnel, and the hub serves nothing of the upstream itself; then no credential of the
environment is in any of its logs or artifacts.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import aiohttp
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from pytest_syncer.harness.environment import SyncerEnvironment
from pytest_syncer.harness.kube import KINDS
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.tunnel.server import tunnel_url
from tests.support.tokens import bearer, token_of

from .credentials import credentials, leaks

pytestmark = pytest.mark.syncer_e2e

CONFIGMAPS = KINDS[("v1", "ConfigMap")]
STOLEN = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "stolen"}, "data": {}}


def tunnel_token(env: SyncerEnvironment, target: str) -> str:
    return (env.workdir / "tunnel-tokens" / target).read_text().strip()


def downstream_token(env: SyncerEnvironment, target: str) -> str:
    return token_of(env.clusters.downstream_kubeconfigs[target])


@pytest.fixture
async def hub_client(syncer_env: SyncerEnvironment) -> AsyncIterator[aiohttp.ClientSession]:
    context = ssl.create_default_context(cafile=str(syncer_env.hub_ca))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        yield session


async def answer(
    hub_client: aiohttp.ClientSession, method: str, url: str, token: str, body: object = None
) -> int:
    async with hub_client.request(method, url, headers=bearer(token), json=body) as response:
        return response.status


def own_and_other(env: SyncerEnvironment) -> tuple[str, str]:
    """A target whose credentials are offered, and the target they are offered for."""
    names = sorted(env.targets)
    return (names[0], names[1]) if env.size > 1 else (names[0], "absent")


async def offer_a_targets_credentials_for_another(
    env: SyncerEnvironment, hub_client: aiohttp.ClientSession
) -> dict[str, int]:
    """Read, write and delete another target's ConfigMaps through the hub with the credentials
    one target's syncer holds; what the hub answered to each attempt."""
    own, other = own_and_other(env)
    workspace = env.clusters.upstream_cluster
    own_cluster = env.clusters.downstream_kubeconfigs[own].stem
    held = {"tunnel token": tunnel_token(env, own), "downstream token": downstream_token(env, own)}
    configmaps = "/api/v1/namespaces/default/configmaps"
    seen: dict[str, int] = {}
    for name, token in held.items():
        for where in (workspace, own_cluster):
            proxy = f"{env.hub_url}/clusters/{where}/targets/{other}/proxy"
            seen[f"{name} GET via {where}"] = await answer(
                hub_client, "GET", proxy + configmaps, token
            )
            seen[f"{name} POST via {where}"] = await answer(
                hub_client, "POST", proxy + configmaps, token, STOLEN
            )
            seen[f"{name} DELETE via {where}"] = await answer(
                hub_client, "DELETE", f"{proxy}{configmaps}/kube-root-ca.crt", token
            )
    return seen


async def test_a_targets_credentials_reach_no_other_target_through_the_hub(
    syncer_env: SyncerEnvironment, hub_client: aiohttp.ClientSession
) -> None:
    env = syncer_env
    if env.provider.name != "embedded":
        pytest.skip("reads the credentials the embedded provider writes")
    seen = await offer_a_targets_credentials_for_another(env, hub_client)
    workspace = env.clusters.upstream_cluster
    # Through the workspace the hub reviews the token with the upstream, which refuses it
    # (401); through the target's own cluster as a workspace the upstream does not let the
    # hub review tokens at all (403).
    assert seen == {case: 401 if f"via {workspace}" in case else 403 for case in seen}
    _, other = own_and_other(env)
    if other in env.targets:
        below = env.targets[other].cluster
        assert below.find(CONFIGMAPS, "stolen", "default") is None


async def test_a_target_cannot_take_over_another_targets_tunnel(
    syncer_env: SyncerEnvironment, hub_client: aiohttp.ClientSession
) -> None:
    env = syncer_env
    if env.size < 2:
        pytest.skip("needs two targets")
    own, other = sorted(env.targets)[:2]
    workspace = env.clusters.upstream_cluster
    token = token_of(env.clusters.upstream_kubeconfig)
    proxy = f"{env.hub_url}/clusters/{workspace}/targets/{other}/proxy/api/v1/namespaces"
    # A fault test before this one may have cut every tunnel: at 200 targets they take seconds
    # to come back, so the real tunnel must serve before the take-over is tried.
    await await_until(
        lambda: answer(hub_client, "GET", proxy, token),
        lambda status: status == 200,
        what=f"{other}'s tunnel serving the upstream's callers (the proxy answering 200)",
        timeout=60.0,
        interval=0.2,
    )
    context = ssl.create_default_context(cafile=str(env.hub_ca))
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            tunnel_url(env.hub_url, workspace, other),
            additional_headers=bearer(tunnel_token(env, own)),
            ssl=context,
            compression=None,
            open_timeout=10,
        ):
            pass
    assert refused.value.response.status_code == 403
    # The real tunnel of the other target still serves the upstream's callers.
    assert await answer(hub_client, "GET", proxy, token) == 200


async def test_the_hub_serves_nothing_of_the_upstream(
    syncer_env: SyncerEnvironment, hub_client: aiohttp.ClientSession
) -> None:
    env = syncer_env
    token = token_of(env.clusters.upstream_kubeconfig)
    workspace = env.clusters.upstream_cluster
    for path in (
        f"/clusters/{workspace}/api/v1/namespaces",
        f"/clusters/{workspace}/apis/workload.kcp.io/v1alpha1/synctargets",
        "/api/v1/namespaces",
    ):
        assert await answer(hub_client, "GET", env.hub_url + path, token) == 404, path


async def test_no_credential_is_in_any_log_or_artifact(
    syncer_env: SyncerEnvironment, hub_client: aiohttp.ClientSession
) -> None:
    """Offers held credentials where they are refused first, so the logs have seen them."""
    if syncer_env.provider.name != "embedded":
        pytest.skip("reads the credential stores the embedded provider writes")
    refused = await offer_a_targets_credentials_for_another(syncer_env, hub_client)
    assert set(refused.values()) <= {401, 403}, refused
    secrets = credentials(syncer_env.workdir)
    assert len(secrets) >= 2 * syncer_env.size + 3
    assert leaks(syncer_env.workdir, secrets) == []
