"""Restarts on ``--data-dir``: same port, same CA, same tokens; objects and revisions survive."""

from __future__ import annotations

import json
import signal
import socket
from pathlib import Path
from typing import Any

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
