"""A custom resource whose CRD the upstream has and the target lacks, with a real syncer.

The CRD is created in the upstream logical cluster only (the embedded API server serves CRDs per
logical cluster, as separate clusters do), and the syncer is told to sync its resource. The
placed object's SyncStatus says Failed with the reason, a Warning Event records it, and the
syncer keeps syncing the other kinds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.contract.objects import KubeObject
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.client import (
    EVENTS,
    NAMESPACES,
    KubeClient,
)
from pytest_syncer.syncer.engine.settings import KNOWN_RESOURCES
from tests.integration.syncer.environment import (
    UPSTREAM,
    SyncerProcessRig,
    TargetInfo,
    setup_environment,
)
from tests.integration.syncer.workloads import WIDGETS, install_widgets, synced_condition

TARGET = TargetInfo("r1", "down-2")
CONFIGMAPS = KNOWN_RESOURCES["configmaps"]
WAIT = 15.0


async def _install_upstream_crd(environment: SyncerProcessRig) -> None:
    async with await environment.client(UPSTREAM) as upstream:
        await install_widgets(upstream)


@pytest.fixture(scope="module")
def environment(
    apiserver: BackgroundAPIServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SyncerProcessRig]:
    env = setup_environment(apiserver.kubeconfigs, tmp_path_factory.mktemp("bad-crd"), [TARGET])
    asyncio.run(_install_upstream_crd(env))
    try:
        env.syncer([TARGET.name], "--resources", "configmaps,widgets.example.com").start()
        yield env
    finally:
        env.stop()


@pytest.fixture
async def downstream(environment: SyncerProcessRig) -> AsyncIterator[KubeClient]:
    async with await environment.client(TARGET.downstream) as client:
        yield client


def placed(api_version: str, kind: str, ns: str, name: str, **fields: Any) -> KubeObject:
    metadata = {"name": name, "namespace": ns, "labels": {TARGET.label: "Sync"}}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **fields}


async def failed_events(upstream: KubeClient, ns: str, name: str) -> list[tuple[str, str]]:
    listing = await upstream.list(EVENTS, ns, field_selector=f"involvedObject.name={name}")
    return [
        (item["type"], item["message"]) for item in listing["items"] if item["reason"] == "Failed"
    ]


async def test_a_type_the_target_does_not_serve_fails_and_the_rest_syncs(
    upstream: KubeClient, downstream: KubeClient
) -> None:
    ns = "bad-crd"
    await upstream.create(NAMESPACES, {"metadata": {"name": ns}})
    widget = await upstream.create(
        WIDGETS, placed("example.com/v1", "Widget", ns, "w", spec={"size": 3})
    )

    condition = await await_until(
        lambda: synced_condition(upstream, ns, widget["metadata"]["uid"], TARGET),
        lambda found: found.get("phase") == "Failed",
        what="a Failed SyncStatus for the widget",
        timeout=WAIT,
    )
    assert condition["reason"] == "Failed"
    assert condition["message"].startswith("the target does not serve widgets.example.com")
    events = await await_until(
        lambda: failed_events(upstream, ns, "w"),
        lambda found: bool(found),
        what="a Failed Event on the widget",
        timeout=WAIT,
    )
    assert events[0] == ("Warning", f"sync target r1: {condition['message']}")

    await upstream.create(CONFIGMAPS, placed("v1", "ConfigMap", ns, "after", data={"k": "v"}))
    copy = await await_until(
        lambda: downstream.get_or_none(CONFIGMAPS, "after", TARGET.namespace_below(ns)),
        lambda found: found is not None,
        what="the ConfigMap created after the widget synced below",
        timeout=WAIT,
    )
    assert copy is not None
    assert copy["data"] == {"k": "v"}
