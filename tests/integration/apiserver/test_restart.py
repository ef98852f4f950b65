"""Restarts on ``--data-dir``: same port, same CA, same tokens; objects and revisions survive."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

from kubernetes import client, config, watch

from pytest_syncer.apiserver.kubeconfig import context_from_kubeconfig, load_kubeconfig
from pytest_syncer.processes import ServiceProcess
from pytest_syncer.waiting import wait_until
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
