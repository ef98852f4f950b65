"""The syncer command itself: its tunnel, its logs, its exit."""

from __future__ import annotations

import asyncio
import secrets
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.client import NAMESPACES
from pytest_syncer.process.parent import ServiceProcess
from pytest_syncer.syncer.engine.settings import KNOWN_RESOURCES
from tests.integration.syncer.environment import (
    UPSTREAM,
    SyncerProcessRig,
    TargetInfo,
    setup_environment,
)
from tests.integration.syncer.workloads import namespace, workload
from tests.support.tokens import bearer, token_of


@pytest.fixture(scope="module")
def environment(
    apiserver: BackgroundAPIServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SyncerProcessRig]:
    env = setup_environment(
        apiserver.kubeconfigs, tmp_path_factory.mktemp("command"), [TargetInfo("tun", "down-1")]
    )
    try:
        yield env
    finally:
        env.stop()


@pytest.fixture(scope="module")
def hub(environment: SyncerProcessRig) -> Iterator[ServiceProcess]:
    secret = environment.workdir / "hub-secret"
    secret.write_text(secrets.token_hex(32))
    process = ServiceProcess(
        "hub",
        [
            "--upstream-kubeconfig",
            str(environment.kubeconfigs[UPSTREAM]),
            "--token-secret-file",
            str(secret),
            "--state-dir",
            str(environment.workdir / "hub"),
        ],
        log_path=environment.workdir / "hub.log",
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


def _mint(secret: Path, target: str) -> str:
    command = [sys.executable, "-m", "pytest_syncer", "token", "--secret-file", str(secret)]
    done = subprocess.run(
        [*command, "--workspace", UPSTREAM, "--target", target],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


async def test_the_syncer_keeps_its_tunnel_and_logs_no_secret(
    environment: SyncerProcessRig, hub: ServiceProcess
) -> None:
    target = environment.targets["tun"]
    tunnel_token = _mint(environment.workdir / "hub-secret", "tun")
    token_file = environment.workdir / "tun.token"
    token_file.write_text(tunnel_token)
    syncer = environment.syncer(
        ["tun"],
        "--tunnel-url",
        hub.ready["url"],
        "--tunnel-token-file",
        str(token_file),
        "--tunnel-ca-file",
        hub.ready["ca"],
    )
    ready = syncer.start()
    assert ready["upstream_cluster"] == UPSTREAM
    assert ready["targets"][0]["name"] == "tun"
    assert ready["targets"][0]["key"] == target.key
    assert ready["targets"][0]["tunnel_url"]

    async with await environment.client(UPSTREAM) as upstream:
        await upstream.create(NAMESPACES, namespace("tunnelled"))
        body = workload("configmaps", "tunnelled", "via", {target.label: "Sync"})
        await upstream.create(KNOWN_RESOURCES["configmaps"], body)

    below = target.namespace_below("tunnelled")
    proxy = f"{hub.ready['url']}/clusters/{UPSTREAM}/targets/tun/proxy"
    path = f"/api/v1/namespaces/{below}/configmaps/via"
    context = ssl.create_default_context(cafile=hub.ready["ca"])
    headers = bearer(token_of(environment.kubeconfigs[UPSTREAM]))
    async with aiohttp.ClientSession() as session:

        async def through_the_tunnel() -> int:
            async with session.get(proxy + path, headers=headers, ssl=context) as response:
                return response.status

        await await_until(
            through_the_tunnel,
            lambda status: status == 200,
            what="the synced copy read through the hub and the syncer's tunnel",
            timeout=20,
        )

    assert syncer.stop() == 0, "SIGTERM must stop the syncer cleanly"
    log = syncer.log_path.read_text()
    assert "target=tun " in log
    for secret in (tunnel_token, *(token_of(path) for path in environment.kubeconfigs.values())):
        assert secret not in log


async def test_a_missing_sync_target_is_named_and_waited_for(
    environment: SyncerProcessRig,
) -> None:
    late = TargetInfo("late", "down-1")
    environment.targets["late"] = late
    syncer = environment.syncer(["late"])
    started = asyncio.create_task(asyncio.to_thread(syncer.start))
    await await_until(
        lambda: asyncio.to_thread(
            lambda: syncer.log_path.read_text() if syncer.log_path.exists() else ""
        ),
        lambda log: "SyncTarget late does not exist upstream" in log,
        what="the syncer saying its SyncTarget is missing",
        timeout=30,
    )
    assert not started.done(), "the syncer must not announce itself ready without its SyncTarget"
    await environment.create_targets([late])
    ready = await asyncio.wait_for(started, 60)
    assert ready["targets"][0]["name"] == "late"
    assert syncer.stop() == 0
