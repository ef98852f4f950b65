"""Restarts on ``--data-dir``: same port, same CA, same tokens; objects and revisions survive."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import signal
import socket
import ssl
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from kubernetes import client, config, watch

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.apiserver.kubeconfig import context_from_kubeconfig, load_kubeconfig
from pytest_syncer.harness.waiting import wait_until
from pytest_syncer.process.parent import ServiceProcess
from tests.integration.apiserver.clients import ClusterClient


def _apiserver(tmp_path: Path, *extra: str) -> ServiceProcess:
    return ServiceProcess(
        "apiserver",
        [
            "--clusters",
            "upstream",
            "--kubeconfig-dir",
            str(tmp_path / "kubeconfigs"),
            "--data-dir",
            str(tmp_path / "data"),
            *extra,
        ],
        log_path=tmp_path / "apiserver.log",
    )


def _config_map(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "data": {"k": name}}


def test_restart_keeps_objects_revisions_clients_and_watch_history(tmp_path: Path) -> None:
    first = _apiserver(tmp_path)
    ready = first.start()
    try:
        api = config.new_client_from_config(config_file=ready["kubeconfigs"]["upstream"])
        core: Any = client.CoreV1Api(api)
        before = core.create_namespaced_config_map("default", _config_map("before"))
        missed = core.create_namespaced_config_map("default", _config_map("missed-1"))
    finally:
        assert first.stop() == 0
    port = ready["url"].rsplit(":", 1)[1]
    second = _apiserver(tmp_path, "--port", port)
    again = second.start()
    try:
        assert again == ready
        survived = core.read_namespaced_config_map("before", "default")
        assert survived.metadata.resource_version == before.metadata.resource_version
        assert survived.metadata.uid == before.metadata.uid
        after = core.create_namespaced_config_map("default", _config_map("missed-2"))
        assert int(after.metadata.resource_version) > int(missed.metadata.resource_version)
        events = [
            (event["type"], event["object"].metadata.name)
            for event in watch.Watch().stream(
                core.list_namespaced_config_map,
                "default",
                resource_version=before.metadata.resource_version,
                timeout_seconds=1,
            )
        ]
        assert events == [("ADDED", "missed-1"), ("ADDED", "missed-2")]
        api.close()
    finally:
        assert second.stop() == 0


def test_a_watch_from_before_the_retention_window_gets_410_after_a_crash(tmp_path: Path) -> None:
    first = _apiserver(tmp_path, "--watch-retention", "0.5")
    ready = first.start()
    context = context_from_kubeconfig(load_kubeconfig(Path(ready["kubeconfigs"]["upstream"])))
    upstream = ClusterClient(context.server, context.token, ready["ca"])
    path = "/api/v1/namespaces/default/configmaps"
    try:
        old = upstream.post(path, _config_map("old")).json()
        revision = old["metadata"]["resourceVersion"]
        first.signal(signal.SIGKILL)
    finally:
        first.stop()
    second = _apiserver(tmp_path, "--watch-retention", "0.5")
    assert second.start()["url"] == ready["url"], "the data dir remembers the port"
    try:

        def write_then_watch_from_old() -> dict[str, Any]:
            upstream.post(path, {"metadata": {"generateName": "new-"}})
            params = {"watch": "1", "resourceVersion": revision, "timeoutSeconds": "1"}
            with upstream.get(path, params=params, stream=True) as response:
                first_line = next(response.iter_lines())
            event: dict[str, Any] = json.loads(first_line)
            return event

        event = wait_until(
            write_then_watch_from_old,
            lambda event: event["type"] == "ERROR",
            what="an ERROR event for a compacted resourceVersion",
        )
        assert event["object"]["code"] == 410
        assert event["object"]["reason"] == "Expired"
        assert "too old resource version" in event["object"]["message"]
        assert upstream.get(f"{path}/old").json()["metadata"]["resourceVersion"] == revision
    finally:
        assert second.stop() == 0


def test_the_python_api_starts_stops_and_restarts_on_the_data_dir(tmp_path: Path) -> None:
    """The blocking facade fixtures use: the CLI's ready line, a freed port, the same URLs."""
    options: dict[str, Any] = {"data_dir": tmp_path / "data"}
    first = BackgroundAPIServer(["upstream"], tmp_path / "kubeconfigs", **options)
    ready = first.start()
    try:
        assert set(ready) == {"url", "kubeconfigs", "admin", "ca", "admission_plugins"}
        context = context_from_kubeconfig(load_kubeconfig(Path(ready["kubeconfigs"]["upstream"])))
        upstream = ClusterClient(context.server, context.token, ready["ca"])
        created = upstream.post("/api/v1/namespaces/default/configmaps", _config_map("kept"))
        assert created.status_code == 201, created.text
    finally:
        first.stop()
    host, port = ready["url"].removeprefix("https://").rsplit(":", 1)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=5).close()
    second = BackgroundAPIServer(["upstream"], tmp_path / "kubeconfigs", **options)
    assert second.start() == ready, "same URL, CA and tokens: the data dir remembers them"
    try:
        kept = upstream.get("/api/v1/namespaces/default/configmaps/kept")
        assert kept.status_code == 200, kept.text
        revision = created.json()["metadata"]["resourceVersion"]
        assert kept.json()["metadata"]["resourceVersion"] == revision
    finally:
        second.stop()


KILL_AFTER = 300
"""Creates acknowledged, or seen by the watch, when the server is killed (more in flight)."""
WRITERS = 24


async def _write_until_killed(
    server: ServiceProcess, base: str, token: str, ca: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Create ConfigMaps from many clients at once (so that several share a commit) and watch
    them; SIGKILL the server the moment the KILL_AFTER-th create is acknowledged or watched
    (whichever runs ahead of the commits, if one does). Returns the resourceVersion of every
    acknowledged create and of every ADDED event seen, by name."""
    acknowledged: dict[str, str] = {}
    watched: dict[str, str] = {}
    url = f"{base}/api/v1/namespaces/default/configmaps"
    tls = ssl.create_default_context(cafile=ca)
    connector = aiohttp.TCPConnector(ssl=tls, limit=WRITERS + 1)
    headers = {"Authorization": f"Bearer {token}"}

    def kill_at(count: int) -> None:
        if count == KILL_AFTER:
            server.signal(signal.SIGKILL)

    async with aiohttp.ClientSession(headers=headers, connector=connector) as http:
        watching = asyncio.Event()

        async def watch() -> None:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url, params={"watch": "1"}, timeout=None) as response:
                    watching.set()
                    async for line in response.content:
                        event = json.loads(line)
                        metadata = event["object"]["metadata"]
                        if event["type"] == "ADDED":
                            watched[metadata["name"]] = metadata["resourceVersion"]
                        kill_at(len(watched))

        async def write(writer: int) -> None:
            for index in itertools.count():
                body = _config_map(f"w{writer}-{index}")
                try:
                    async with http.post(url, json=body) as response:
                        created = await response.json()
                except aiohttp.ClientError:
                    return
                assert response.status == 201, created
                acknowledged[body["metadata"]["name"]] = created["metadata"]["resourceVersion"]
                kill_at(len(acknowledged))

        watcher = asyncio.create_task(watch())
        await asyncio.wait_for(watching.wait(), 30)
        await asyncio.wait_for(asyncio.gather(*(write(n) for n in range(WRITERS))), 120)
        await asyncio.wait_for(watcher, 30)
    return acknowledged, watched


def test_a_sigkill_right_after_acknowledged_writes_loses_none_of_them(tmp_path: Path) -> None:
    """Writes share SQLite commits (group commit), yet none is acknowledged, nor sent to a
    watch, before its commit: after ``kill -9`` a restart serves every acknowledged and every
    watched object at the resourceVersion the client was given (etcd's durability promise)."""
    first = _apiserver(tmp_path)
    ready = first.start()
    context = context_from_kubeconfig(load_kubeconfig(Path(ready["kubeconfigs"]["upstream"])))
    try:
        written = _write_until_killed(first, context.server, context.token, ready["ca"])
        acknowledged, watched = asyncio.run(written)
    finally:
        first.stop()
    assert max(len(acknowledged), len(watched)) >= KILL_AFTER
    second = _apiserver(tmp_path)
    second.start()
    try:
        upstream = ClusterClient(context.server, context.token, ready["ca"])
        items = upstream.get("/api/v1/namespaces/default/configmaps").json()["items"]
        stored = {item["metadata"]["name"]: item["metadata"]["resourceVersion"] for item in items}
        told = {**watched, **acknowledged}
        lost = {name: version for name, version in told.items() if stored.get(name) != version}
        assert not lost, f"{len(lost)} of {len(told)} acknowledged or watched writes lost"
    finally:
        assert second.stop() == 0
