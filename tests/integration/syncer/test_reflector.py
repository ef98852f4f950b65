"""The client and the reflector against the real embedded API server over HTTPS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeVar

import pytest

from pytest_syncer.apiserver import EmbeddedAPIServer
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.client import ApiError, KubeClient, Resource
from pytest_syncer.kubeclient.reflector import Change, Reflector

CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")


def config_map(name: str, namespace: str = "default", **labels: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "data": {"n": "0"},
    }


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[EmbeddedAPIServer]:
    async with EmbeddedAPIServer(
        ["one"], tmp_path, watch_retention=0.3, bookmark_interval=1000
    ) as running:
        yield running


@pytest.fixture
async def client(server: EmbeddedAPIServer) -> AsyncIterator[KubeClient]:
    async with await KubeClient.from_kubeconfig(server.kubeconfigs["one"]) as kube:
        yield kube


async def test_client_speaks_crud_and_names_errors(client: KubeClient) -> None:
    assert client.logical_cluster == "one"
    created = await client.create(CONFIGMAPS, config_map("crud"))
    assert created["metadata"]["uid"]
    with pytest.raises(ApiError) as exists:
        await client.create(CONFIGMAPS, config_map("crud"))
    assert exists.value.already_exists
    stale = {**created, "data": {"n": "1"}}
    await client.replace(CONFIGMAPS, stale)
    with pytest.raises(ApiError) as conflict:
        await client.replace(CONFIGMAPS, stale)
    assert conflict.value.conflict
    patched = await client.patch(CONFIGMAPS, "crud", {"data": {"m": "2"}}, "default")
    assert patched["data"] == {"n": "1", "m": "2"}
    assert await client.delete(CONFIGMAPS, "crud", "default") is not None
    assert await client.delete(CONFIGMAPS, "crud", "default") is None
    assert await client.get_or_none(CONFIGMAPS, "crud", "default") is None
    discovered = await client.discover("deployments.apps")
    assert (discovered.version, discovered.kind, discovered.namespaced) == (
        "v1",
        "Deployment",
        True,
    )
    with pytest.raises(ApiError):
        await client.discover("nothings.example.com")


async def test_reflector_caches_and_reports_changes_for_its_selector(client: KubeClient) -> None:
    await client.create(CONFIGMAPS, config_map("before", team="a"))
    await client.create(CONFIGMAPS, config_map("other", team="b"))
    seen: list[tuple[Change, str]] = []
    reflector = Reflector(client, CONFIGMAPS, label_selector="team=a")
    reflector.add_handler(lambda change, obj, old: seen.append((change, obj["metadata"]["name"])))
    async with reflector:
        await reflector.wait_synced(10)
        assert set(reflector.cache) == {("default", "before")}
        await client.create(CONFIGMAPS, config_map("after", team="a"))
        await client.patch(CONFIGMAPS, "before", {"metadata": {"labels": {"team": "b"}}}, "default")
        await client.patch(CONFIGMAPS, "other", {"metadata": {"labels": {"team": "a"}}}, "default")
        await await_until(
            lambda: _async(set(reflector.cache)),
            lambda keys: keys == {("default", "after"), ("default", "other")},
            what="the cache to follow label changes",
            timeout=10,
        )
    assert seen[:1] == [(Change.ADDED, "before")]
    assert (Change.DELETED, "before") in seen
    assert (Change.ADDED, "other") in seen


async def test_reflector_lists_again_after_410_and_misses_nothing(client: KubeClient) -> None:
    reflector = Reflector(client, CONFIGMAPS, namespace="default", watch_timeout=1)
    async with reflector:
        await reflector.wait_synced(10)
        written: list[str] = []

        async def write_elsewhere() -> int:
            written.append(f"cm-{len(written)}")
            await client.create(CONFIGMAPS, config_map(written[-1], "kube-public"))
            return reflector.lists

        await await_until(
            write_elsewhere,
            lambda lists: lists >= 2,
            what="a relist once the watch's resourceVersion expired",
            timeout=20,
            interval=0.4,
        )
        await client.create(CONFIGMAPS, config_map("after-relist"))
        await await_until(
            lambda: _async(set(reflector.cache)),
            lambda cached: ("default", "after-relist") in cached,
            what="the object created after the relist in the cache",
            timeout=10,
        )
        assert all(namespace == "default" for namespace, _ in reflector.cache)


async def test_bookmarks_keep_an_idle_watch_resumable_without_a_relist(tmp_path: Path) -> None:
    """Writes the reflector does not watch move the server's resourceVersion past its
    retention; only bookmarks carry the reflector's resourceVersion along, so each resumed
    watch (every second) starts where the server still has events and nothing is listed again."""
    async with (
        EmbeddedAPIServer(["one"], tmp_path, watch_retention=2.5, bookmark_interval=0.1) as server,
        await KubeClient.from_kubeconfig(server.kubeconfigs["one"]) as client,
        Reflector(client, CONFIGMAPS, namespace="default", watch_timeout=1) as reflector,
    ):
        await reflector.wait_synced(10)
        listed_at = int(reflector.resource_version)
        written: list[str] = []

        async def write_elsewhere() -> int:
            written.append(f"idle-{len(written)}")
            await client.create(CONFIGMAPS, config_map(written[-1], "kube-public"))
            return len(written)

        await await_until(
            write_elsewhere,
            lambda count: count >= 30,
            what="writes outside the watched namespace for about six seconds",
            timeout=60,
            interval=0.2,
        )
        await await_until(
            lambda: _async(int(reflector.resource_version)),
            lambda version: version > listed_at,
            what="a bookmark to move the reflector's resourceVersion",
            timeout=10,
        )
        await client.create(CONFIGMAPS, config_map("after-idle"))
        await await_until(
            lambda: _async(set(reflector.cache)),
            lambda cached: ("default", "after-idle") in cached,
            what="the object created after the idle spell in the cache",
            timeout=10,
        )
        assert reflector.lists == 1, "the watch expired: bookmarks did not carry it"


T = TypeVar("T")


async def _async(value: T) -> T:
    return value


async def test_a_resource_the_server_does_not_serve_is_reported_not_waited_for(
    client: KubeClient,
) -> None:
    widgets = Resource("example.com", "v1", "widgets", "Widget")
    async with Reflector(client, widgets, retry_initial=0.05) as reflector:
        await reflector.wait_listed_or_unserved(10)
        assert reflector.unserved.is_set()
        assert not reflector.synced.is_set()
        assert reflector.last_error is not None
        assert "404" in reflector.last_error
