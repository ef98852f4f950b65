"""A target's start outlasts a server too busy to answer: with 1000 targets starting at once the
API server refuses or times out some first reads, and such a target must ask again, not die
silently and hold its pool's start for the whole ready timeout (issue 17)."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.client import SYNC_TARGETS, KubeClient
from pytest_syncer.status.objects import sync_target
from pytest_syncer.syncer.engine.target import wait_for_sync_target
from pytest_syncer.syncer.engine.targetlog import TargetLog


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_sync_target_is_read_again_after_a_refused_connection(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = _free_port()
    options = {"data_dir": tmp_path / "data", "port": port}
    with BackgroundAPIServer(["upstream"], tmp_path / "kc", **options) as first:
        kubeconfig = first.kubeconfigs["upstream"]
    log = TargetLog(logging.getLogger("test"), "t1")
    async with await KubeClient.from_kubeconfig(kubeconfig) as client:
        waiting = asyncio.create_task(wait_for_sync_target(client, "t1", log))
        await await_until(
            lambda: asyncio.sleep(0, caplog.text),
            lambda text: "SyncTarget t1 not read" in text,
            what="the refused read logged",
            timeout=10,
        )
        with BackgroundAPIServer(["upstream"], tmp_path / "kc", **options):
            assert not waiting.done(), "the server was down: nothing to read yet"
            await client.create(SYNC_TARGETS, sync_target("t1"))
            found = await asyncio.wait_for(waiting, 30)
    assert found["metadata"]["name"] == "t1"
