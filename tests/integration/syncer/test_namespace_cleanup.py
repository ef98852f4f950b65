"""Namespaces below: made once however many workers want one at once, and removed when empty
even after their cluster was unreachable for a while.

The soak found the second: a syncer resumed from a partition tried to delete an emptied
namespace just as the API server restarted; the connection error ended the clean-up loop, and
every namespace that target emptied afterwards stayed behind.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TypeVar

import pytest

from pytest_syncer.apiserver import EmbeddedAPIServer
from pytest_syncer.apiserver.http.metrics import REQUESTS, total
from pytest_syncer.contract.naming import CLUSTER_LABEL
from pytest_syncer.contract.objects import SyncTarget
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.client import NAMESPACES, KubeClient
from pytest_syncer.kubeclient.reflector import Reflector
from pytest_syncer.syncer.engine.namespaces import DownstreamNamespaces
from pytest_syncer.syncer.engine.targetlog import TargetLog
from pytest_syncer.syncer.interfaces import TransformContext

T = TypeVar("T")
LOGGER = "pytest_syncer.test.namespaces"


async def now(value: T) -> T:
    return value


async def test_namespace_clean_up_outlives_an_unreachable_cluster(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kubeconfigs, data = tmp_path / "kubeconfigs", tmp_path / "data"
    server = EmbeddedAPIServer(["down"], kubeconfigs, data_dir=data)
    await server.start()
    target = SyncTarget("t1", "upstream", "7d1b2c52-0000-4000-8000-000000000001")
    cleaner: asyncio.Task[None] | None = None
    try:
        async with await KubeClient.from_kubeconfig(server.kubeconfigs["down"]) as client:
            cache = Reflector(
                client, NAMESPACES, label_selector=f"{CLUSTER_LABEL}={target.key}", watch_timeout=1
            )
            async with cache:
                await cache.wait_synced(10)
                log = TargetLog(logging.getLogger(LOGGER), target.name)
                namespaces = DownstreamNamespaces(client, cache, TransformContext(target), log)
                name = await namespaces.ensure("app")
                await await_until(
                    lambda: now(cache.get("", name)),
                    lambda found: found is not None,
                    what=f"namespace {name} in the cache",
                    timeout=10,
                )
                await server.stop()
                with caplog.at_level(logging.WARNING, logger=LOGGER):
                    cleaner = asyncio.create_task(namespaces.clean_up_forever(0.2, set))
                    await await_until(
                        lambda: now(caplog.text),
                        lambda text: "namespace clean-up failed" in text,
                        what="a clean-up round failing on the stopped API server",
                        timeout=10,
                    )
                server = EmbeddedAPIServer(["down"], kubeconfigs, data_dir=data)
                await server.start()
                await await_until(
                    lambda: client.get_or_none(NAMESPACES, name),
                    lambda found: found is None or bool(found["metadata"].get("deletionTimestamp")),
                    what=f"empty namespace {name} deleted once its API server is back",
                    timeout=20,
                    interval=0.2,
                )
                assert not cleaner.done()
    finally:
        if cleaner is not None:
            cleaner.cancel()
        await server.stop()


async def test_workers_that_find_a_namespace_missing_at_once_create_it_once(
    tmp_path: Path,
) -> None:
    """A burst of first copies into one upstream namespace (a worker each) sends one create
    below, not one per worker each answered AlreadyExists and read again."""
    server = EmbeddedAPIServer(["down"], tmp_path / "kubeconfigs", data_dir=tmp_path / "data")
    await server.start()
    target = SyncTarget("t1", "upstream", "7d1b2c52-0000-4000-8000-000000000002")
    try:
        async with (
            await KubeClient.from_kubeconfig(server.kubeconfigs["down"]) as client,
            await KubeClient.from_kubeconfig(server.admin_kubeconfig) as admin,
        ):
            cache = Reflector(client, NAMESPACES, label_selector=f"{CLUSTER_LABEL}={target.key}")
            async with cache:
                await cache.wait_synced(10)
                log = TargetLog(logging.getLogger(LOGGER), target.name)
                namespaces = DownstreamNamespaces(client, cache, TransformContext(target), log)
                before = await admin.metrics()
                names = await asyncio.gather(*(namespaces.ensure("app") for _ in range(8)))
                after = await admin.metrics()
        assert len(set(names)) == 1
        sent = {
            verb: total(after, REQUESTS, resource="namespaces", verb=verb)
            - total(before, REQUESTS, resource="namespaces", verb=verb)
            for verb in ("POST", "GET")
        }
        assert sent == {"POST": 1, "GET": 0}, f"namespace requests for 8 workers: {sent}"
    finally:
        await server.stop()
