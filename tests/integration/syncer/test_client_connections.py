"""KubeClient connections against the real embedded API server: a pool's clients of one server
share a bounded set of keep-alive connections, watches never wait behind requests, and a
token the configuration refreshes is sent as refreshed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from kubernetes.aio import config as aio_config

from pytest_syncer.apiserver import EmbeddedAPIServer
from pytest_syncer.kubeclient.client import REQUEST_CONNECTIONS, ApiError, KubeClient, Resource

CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[EmbeddedAPIServer]:
    async with EmbeddedAPIServer(["one", "two"], tmp_path) as running:
        yield running


def established_to(port: int) -> int:
    """Client-side TCP connections to `port` on this machine, from the kernel's table (the
    embedded server runs in this process, so these are this test's)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                if remote_port == port and fields[3] == "01":
                    count += 1
    return count


async def test_clients_of_one_server_share_at_most_the_bounded_connections(
    server: EmbeddedAPIServer,
) -> None:
    port = int(server.url.rsplit(":", 1)[1].split("/")[0])
    one = await KubeClient.from_kubeconfig(server.kubeconfigs["one"], share_connections=True)
    two = await KubeClient.from_kubeconfig(server.kubeconfigs["two"], share_connections=True)
    async with one, two:
        requests = [
            client.get_or_none(CONFIGMAPS, f"absent-{index}", "default")
            for index in range(3 * REQUEST_CONNECTIONS)
            for client in (one, two)
        ]
        assert await asyncio.gather(*requests) == [None] * len(requests)
        assert 1 <= established_to(port) <= REQUEST_CONNECTIONS
        # Each still reaches its own logical cluster with its own token.
        await one.create(CONFIGMAPS, _config_map("only-in-one"))
        assert await two.get_or_none(CONFIGMAPS, "only-in-one", "default") is None
        assert await one.get_or_none(CONFIGMAPS, "only-in-one", "default") is not None


async def test_watches_beyond_the_request_bound_do_not_block_requests(
    server: EmbeddedAPIServer,
) -> None:
    async with await KubeClient.from_kubeconfig(server.kubeconfigs["one"]) as client:
        version = (await client.list(CONFIGMAPS, "default"))["metadata"]["resourceVersion"]
        seen: list[str] = []

        async def watch() -> None:
            async for event in client.watch(CONFIGMAPS, version, "default"):
                if event["type"] == "ADDED":
                    seen.append(event["object"]["metadata"]["name"])
                    return

        watches = [asyncio.create_task(watch()) for _ in range(REQUEST_CONNECTIONS + 8)]
        try:
            created = await asyncio.wait_for(
                client.create(CONFIGMAPS, _config_map("after-the-watches")), 10
            )
            assert created["metadata"]["name"] == "after-the-watches"
            await asyncio.wait_for(asyncio.gather(*watches), 10)
        finally:
            for task in watches:
                task.cancel()
        assert seen == ["after-the-watches"] * len(watches)


async def test_a_refreshed_token_is_sent_on_the_next_request(server: EmbeddedAPIServer) -> None:
    """An in-cluster configuration refreshes its token before each request (the official
    client's `refresh_api_key_hook`); a rotated token must not be cached away."""
    api_client = await aio_config.new_client_from_config(
        config_file=str(server.kubeconfigs["one"]), persist_config=False
    )
    tokens = [api_client.configuration.api_key["BearerToken"]]

    def refresh(configuration: object) -> None:
        api_client.configuration.api_key["BearerToken"] = tokens[-1]

    api_client.configuration.refresh_api_key_hook = refresh
    async with KubeClient(api_client) as client:
        assert await client.get_or_none(CONFIGMAPS, "absent", "default") is None
        tokens.append("Bearer not-a-token-the-server-issued")
        with pytest.raises(ApiError) as refused:
            await client.get_or_none(CONFIGMAPS, "absent", "default")
        assert refused.value.status == 401


def _config_map(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": {},
    }
