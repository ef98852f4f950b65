"""Malformed watch resumption: a resourceVersion that is garbage, negative, not ASCII, past the
stores' range, or one the server never reached. The first kinds are a 400 naming the value;
the last is the list's 504 "Too large resource version", and a reflector holding such a
revision (its server's store was reset) lists again and misses nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import aiohttp
import pytest

from pytest_syncer.apiserver import EmbeddedAPIServer
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.client import KubeClient, Resource
from pytest_syncer.kubeclient.reflector import Reflector

from .conftest import Servers

pytestmark = pytest.mark.syncer_e2e

CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")
T = TypeVar("T")
WATCH = "/clusters/upstream/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1"


async def get(servers: Servers, path: str) -> tuple[int, dict[str, object] | None, bytes]:
    endpoint = servers.upstream
    connector = aiohttp.TCPConnector(ssl=servers.ssl_context("apiserver"))
    headers = {"Authorization": endpoint.authorization or ""}
    async with (
        aiohttp.ClientSession(connector=connector) as http,
        http.get(servers.url("apiserver") + path, headers=headers) as response,
    ):
        body = await response.read()
        is_status = response.status >= 400
        return response.status, (await response.json() if is_status else None), body


@pytest.mark.parametrize(
    "revision",
    ["garbage", "-5", "1e3", " 7", "\u00b2", "\u0663", str(2**63), "9" * 5000],
    ids=["garbage", "negative", "float", "space", "superscript", "arabic-digit", "2^63", "huge"],
)
async def test_a_malformed_resource_version_is_a_400_and_the_server_serves_on(
    servers: Servers, revision: str
) -> None:
    status, body, _ = await get(servers, f"{WATCH}&resourceVersion={quote(revision)}")
    assert body is not None
    assert (status, body["kind"], body["reason"]) == (400, "Status", "BadRequest")
    assert "is not a resource version of this server" in str(body["message"])
    listed, _, raw = await get(servers, "/clusters/upstream/api/v1/namespaces/default/configmaps")
    assert listed == 200, raw[:200]


async def test_a_resource_version_from_the_future_is_too_large(servers: Servers) -> None:
    listed, _, raw = await get(servers, "/clusters/upstream/api/v1/namespaces/default/configmaps")
    assert listed == 200
    current = int(json.loads(raw)["metadata"]["resourceVersion"])
    status, body, _ = await get(servers, f"{WATCH}&resourceVersion={current + 1000}")
    assert body is not None
    assert (status, body["reason"]) == (504, "Timeout")
    assert body["details"] == {
        "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}]
    }
    resumed, _, _ = await get(servers, f"{WATCH}&resourceVersion={current}")
    assert resumed == 200


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[KubeClient]:
    async with (
        EmbeddedAPIServer(["one"], tmp_path) as server,
        await KubeClient.from_kubeconfig(server.kubeconfigs["one"]) as kube,
    ):
        yield kube


async def test_a_reflector_ahead_of_its_server_lists_again_and_misses_nothing(
    client: KubeClient,
) -> None:
    reflector = Reflector(client, CONFIGMAPS, namespace="default", watch_timeout=1)
    async with reflector:
        await reflector.wait_synced(10)
        lists = reflector.lists
        # What a reflector holds after its server came back on an emptied store.
        reflector.resource_version = "900000"
        await await_until(
            lambda: _now(reflector.lists),
            lambda seen: seen > lists,
            what="a relist once the server answered the watch 504 Too large resource version",
            timeout=20,
            interval=0.2,
        )
        await client.create(
            CONFIGMAPS,
            {"metadata": {"name": "after-reset", "namespace": "default"}, "data": {"k": "v"}},
        )
        await await_until(
            lambda: _now(("default", "after-reset") in reflector.cache),
            lambda cached: cached,
            what="the object created after the relist in the cache",
            timeout=10,
            interval=0.2,
        )


async def _now(value: T) -> T:
    return value
