"""Bad input the upstream accepts and the target (or the syncer) refuses, with a real syncer.

Each refused object's SyncStatus says Failed with the reason, a Warning Event records it, and
the syncer goes on: an object created after it in the same namespace syncs. The target's
refusal is its validation: an object whose annotations fit the 256 KiB limit upstream, but not
below once the syncer adds its own annotation (the limit is the real API server's, and the
embedded server enforces it with the same message). The embedded server validates Service types
the same way in every logical cluster, so a Service type that only the target rejects cannot be
staged here; a custom resource whose CRD only the upstream has is in `test_bad_input_crd.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.syncer.client import EVENTS, NAMESPACES, SYNC_STATUSES, KubeClient
from pytest_syncer.syncer.conflict import CONFLICT_STRATEGY_ANNOTATION, RETAIN_FIELDS_ANNOTATION
from pytest_syncer.syncer.engine.settings import KNOWN_RESOURCES
from pytest_syncer.syncer.interfaces import WORKLOAD_UID_LABEL, KubeObject
from pytest_syncer.syncer.transform.naming import CLUSTER_ANNOTATION
from pytest_syncer.waiting import await_until
from tests.integration.syncer.environment import (
    UPSTREAM,
    SyncerEnvironment,
    TargetInfo,
    setup_environment,
)

TARGET = TargetInfo("b1", "down-1")
CONFIGMAPS = KNOWN_RESOURCES["configmaps"]
ANNOTATION_LIMIT = 256 * 1024
WAIT = 15.0


@pytest.fixture(scope="module")
def environment(
    apiserver: BackgroundAPIServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SyncerEnvironment]:
    env = setup_environment(apiserver.kubeconfigs, tmp_path_factory.mktemp("bad-input"), [TARGET])
    try:
        env.syncer([TARGET.name]).start()
        yield env
    finally:
        env.stop()


@pytest.fixture
async def upstream(environment: SyncerEnvironment) -> AsyncIterator[KubeClient]:
    async with await environment.client(UPSTREAM) as client:
        yield client


@pytest.fixture
async def downstream(environment: SyncerEnvironment) -> AsyncIterator[KubeClient]:
    async with await environment.client(TARGET.downstream) as client:
        yield client


def configmap(ns: str, name: str, notes: dict[str, str] | None = None) -> KubeObject:
    metadata: dict[str, Any] = {"name": name, "namespace": ns, "labels": {TARGET.label: "Sync"}}
    if notes:
        metadata["annotations"] = notes
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {"k": "v"}}


async def synced_condition(upstream: KubeClient, ns: str, uid: str) -> dict[str, Any]:
    listing = await upstream.list(SYNC_STATUSES, ns, label_selector=f"{WORKLOAD_UID_LABEL}={uid}")
    for item in listing["items"]:
        status = item.get("status") or {}
        for condition in status.get("conditions") or []:
            if condition.get("type") == "Synced":
                return {"phase": status.get("phase"), **condition}
    return {}


async def wait_failed(upstream: KubeClient, obj: KubeObject) -> dict[str, Any]:
    ns, name, uid = (obj["metadata"][key] for key in ("namespace", "name", "uid"))
    return await await_until(
        lambda: synced_condition(upstream, ns, uid),
        lambda condition: condition.get("phase") == "Failed",
        what=f"a Failed SyncStatus for {ns}/{name}",
        timeout=WAIT,
    )


async def failed_events(upstream: KubeClient, ns: str, name: str) -> list[tuple[str, str]]:
    listing = await upstream.list(EVENTS, ns, field_selector=f"involvedObject.name={name}")
    return [
        (item["type"], item["message"]) for item in listing["items"] if item["reason"] == "Failed"
    ]


async def wait_failed_event(upstream: KubeClient, ns: str, name: str, message: str) -> None:
    await await_until(
        lambda: failed_events(upstream, ns, name),
        lambda found: ("Warning", f"sync target b1: {message}") in found,
        what=f"a Warning Failed Event on {ns}/{name} saying {message!r}",
        timeout=WAIT,
    )


async def wait_synced_below(downstream: KubeClient, ns: str, name: str) -> KubeObject:
    found = await await_until(
        lambda: downstream.get_or_none(CONFIGMAPS, name, TARGET.namespace_below(ns)),
        lambda copy: copy is not None,
        what=f"the copy of {ns}/{name} below",
        timeout=WAIT,
    )
    assert found is not None
    return found


def annotations_at_the_limit() -> dict[str, str]:
    """User annotations that, with the server's own `kcp.io/cluster: upstream`, fill 256 KiB."""
    room = ANNOTATION_LIMIT - len(CLUSTER_ANNOTATION) - len(UPSTREAM)
    key = "example.com/blob"
    return {key: "x" * (room - len(key))}


async def test_an_object_the_target_refuses_fails_and_the_rest_syncs(
    upstream: KubeClient, downstream: KubeClient
) -> None:
    ns = "bad-refused"
    await upstream.create(NAMESPACES, {"metadata": {"name": ns}})
    huge = await upstream.create(CONFIGMAPS, configmap(ns, "huge", annotations_at_the_limit()))

    condition = await wait_failed(upstream, huge)
    assert condition["reason"] == "Failed"
    assert condition["status"] == "False"
    assert condition["message"].startswith("the target refused the object: 422")
    assert (
        "metadata.annotations: Too long: must have at most 262144 bytes" in (condition["message"])
    )
    await wait_failed_event(upstream, ns, "huge", condition["message"])
    assert await downstream.get_or_none(CONFIGMAPS, "huge", TARGET.namespace_below(ns)) is None

    await upstream.create(CONFIGMAPS, configmap(ns, "after"))
    copy = await wait_synced_below(downstream, ns, "after")
    assert copy["data"] == {"k": "v"}


@pytest.mark.parametrize(
    ("notes", "message"),
    [
        (
            {CONFLICT_STRATEGY_ANNOTATION: "Retain"},
            f"metadata.annotations[{CONFLICT_STRATEGY_ANNOTATION}]: unknown conflict strategy "
            "'Retain'; expected one of upstream-wins, retain, overwrite, abort",
        ),
        (
            {CONFLICT_STRATEGY_ANNOTATION: "retain", RETAIN_FIELDS_ANNOTATION: "metadata.name"},
            f"metadata.annotations[{RETAIN_FIELDS_ANNOTATION}]: 'metadata.name': only single "
            "labels and annotations of metadata can be retained",
        ),
        (
            {CONFLICT_STRATEGY_ANNOTATION: "retain", RETAIN_FIELDS_ANNOTATION: "data..k"},
            f"metadata.annotations[{RETAIN_FIELDS_ANNOTATION}]: 'data..k' is not a dotted "
            "field path",
        ),
    ],
    ids=["unknown-strategy", "unretainable-field", "malformed-path"],
)
async def test_a_bad_conflict_annotation_fails_until_it_is_fixed(
    upstream: KubeClient,
    downstream: KubeClient,
    request: pytest.FixtureRequest,
    notes: dict[str, str],
    message: str,
) -> None:
    ns = "bad-" + request.node.callspec.id
    await upstream.create(NAMESPACES, {"metadata": {"name": ns}})
    bad = await upstream.create(CONFIGMAPS, configmap(ns, "bad", notes))

    condition = await wait_failed(upstream, bad)
    assert condition["message"] == message
    await wait_failed_event(upstream, ns, "bad", message)

    await upstream.create(CONFIGMAPS, configmap(ns, "after"))
    await wait_synced_below(downstream, ns, "after")
    assert await downstream.get_or_none(CONFIGMAPS, "bad", TARGET.namespace_below(ns)) is None

    fixed = {"metadata": {"annotations": {CONFLICT_STRATEGY_ANNOTATION: "retain"}}}
    fixed["metadata"]["annotations"][RETAIN_FIELDS_ANNOTATION] = "data.k"
    await upstream.patch(CONFIGMAPS, "bad", fixed, ns)
    await wait_synced_below(downstream, ns, "bad")
    condition = await await_until(
        lambda: synced_condition(upstream, ns, bad["metadata"]["uid"]),
        lambda found: found.get("phase") == "Synced",
        what="the fixed object's SyncStatus Synced",
        timeout=WAIT,
    )
    assert condition["status"] == "True"
