"""Each conflict strategy under its conflict, with a real `pytest-syncer syncer` process.

One API server over HTTPS for the module (the directory's `apiserver` fixture), one syncer for
target `c1` on the logical cluster `down-1`, default strategy `upstream-wins`; each test picks
its strategy per object with the `workload.kcp.io/conflict-strategy` annotation and works in
its own upstream namespace. The downstream edits are made the way a person or an autoscaler
would: writes to the copy in `down-1`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.contract.naming import CLUSTER_LABEL
from pytest_syncer.contract.objects import KubeObject
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.client import EVENTS, NAMESPACES, ApiError, KubeClient
from pytest_syncer.syncer.conflict import CONFLICT_STRATEGY_ANNOTATION, RETAIN_FIELDS_ANNOTATION
from pytest_syncer.syncer.engine.settings import KNOWN_RESOURCES
from pytest_syncer.syncer.engine.spec import UPSTREAM_GENERATION_ANNOTATION
from tests.integration.syncer.environment import (
    UPSTREAM,
    SyncerProcessRig,
    TargetInfo,
    setup_environment,
)
from tests.integration.syncer.workloads import synced_condition

TARGET = TargetInfo("c1", "down-1")
DEPLOYMENTS = KNOWN_RESOURCES["deployments.apps"]
CONFIGMAPS = KNOWN_RESOURCES["configmaps"]
WAIT = 15.0


@pytest.fixture(scope="module")
def environment(
    apiserver: BackgroundAPIServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SyncerProcessRig]:
    env = setup_environment(apiserver.kubeconfigs, tmp_path_factory.mktemp("conflict"), [TARGET])
    try:
        env.syncer([TARGET.name]).start()
        yield env
    finally:
        env.stop()


class Clusters:
    """The upstream and the target's cluster, and the reads every test makes of them."""

    def __init__(self, upstream: KubeClient, downstream: KubeClient) -> None:
        self.up = upstream
        self.down = downstream

    async def namespace(self, name: str) -> str:
        await self.up.create(NAMESPACES, {"metadata": {"name": name}})
        return name

    async def copy(self, resource: Any, ns: str, name: str) -> KubeObject | None:
        return await self.down.get_or_none(resource, name, TARGET.namespace_below(ns))

    async def wait_copy(
        self, resource: Any, ns: str, name: str, accept: Any, what: str
    ) -> KubeObject:
        async def observe() -> KubeObject | None:
            return await self.copy(resource, ns, name)

        found = await await_until(
            observe, lambda copy: copy is not None and accept(copy), what=what, timeout=WAIT
        )
        assert found is not None
        return found

    async def synced_condition(self, ns: str, uid: str) -> dict[str, Any]:
        """Phase plus the Synced condition of this workload's SyncStatus on `c1`."""
        return await synced_condition(self.up, ns, uid, TARGET)

    async def wait_condition(self, ns: str, uid: str, accept: Any, what: str) -> dict[str, Any]:
        return await await_until(
            lambda: self.synced_condition(ns, uid), accept, what=what, timeout=WAIT
        )

    async def events(self, ns: str, name: str) -> list[tuple[str, str, str]]:
        listing = await self.up.list(EVENTS, ns, field_selector=f"involvedObject.name={name}")
        return sorted((item["reason"], item["type"], item["message"]) for item in listing["items"])

    async def wait_event(self, ns: str, name: str, reason: str) -> list[tuple[str, str, str]]:
        return await await_until(
            lambda: self.events(ns, name),
            lambda found: any(event[0] == reason for event in found),
            what=f"a {reason} Event on {ns}/{name}",
            timeout=WAIT,
        )

    async def edit_copy(self, resource: Any, ns: str, name: str, patch: dict[str, Any]) -> None:
        await self.down.patch(resource, name, patch, TARGET.namespace_below(ns))


@pytest.fixture
async def clusters(environment: SyncerProcessRig) -> AsyncIterator[Clusters]:
    upstream = await environment.client(UPSTREAM)
    downstream = await environment.client(TARGET.downstream)
    yield Clusters(upstream, downstream)
    await upstream.close()
    await downstream.close()


def placed(
    api_version: str, kind: str, ns: str, name: str, notes: dict[str, str], **fields: Any
) -> KubeObject:
    metadata = {"name": name, "namespace": ns, "labels": {TARGET.label: "Sync", "app": name}}
    if notes:
        metadata["annotations"] = notes
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **fields}


def deployment(ns: str, name: str, notes: dict[str, str], image: str = "app:1") -> KubeObject:
    template = {
        "metadata": {"labels": {"app": name}},
        "spec": {"containers": [{"name": "main", "image": image}]},
    }
    spec = {"replicas": 2, "selector": {"matchLabels": {"app": name}}, "template": template}
    return placed("apps/v1", "Deployment", ns, name, notes, spec=spec)


def configmap(ns: str, name: str, notes: dict[str, str], color: str = "red") -> KubeObject:
    return placed("v1", "ConfigMap", ns, name, notes, data={"color": color})


def strategy(name: str, retain: str = "") -> dict[str, str]:
    notes = {CONFLICT_STRATEGY_ANNOTATION: name}
    if retain:
        notes[RETAIN_FIELDS_ANNOTATION] = retain
    return notes


def image_of(copy: KubeObject) -> str:
    image: str = copy["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


EDIT = {
    "spec": {
        "replicas": 5,
        "template": {"spec": {"containers": [{"name": "main", "image": "edited:9"}]}},
    }
}


async def test_upstream_wins_reverts_a_downstream_edit_within_seconds(clusters: Clusters) -> None:
    ns = await clusters.namespace("cf-wins")
    created = await clusters.up.create(
        DEPLOYMENTS, deployment(ns, "web", strategy("upstream-wins"))
    )
    await clusters.wait_copy(DEPLOYMENTS, ns, "web", lambda c: True, "the copy of cf-wins/web")

    await clusters.edit_copy(DEPLOYMENTS, ns, "web", EDIT)
    await clusters.wait_copy(
        DEPLOYMENTS,
        ns,
        "web",
        lambda c: c["spec"]["replicas"] == 2 and image_of(c) == "app:1",
        "the edit below reverted",
    )
    message = (
        "upstream-wins: reverted drift below in spec.replicas, "
        "spec.template.spec.containers[0].image"
    )
    events = await clusters.wait_event(ns, "web", "DriftReverted")
    assert ("DriftReverted", "Normal", f"sync target c1: {message}") in events
    condition = await clusters.wait_condition(
        ns,
        created["metadata"]["uid"],
        lambda c: c.get("message") == "upstream-wins: no drift",
        "the SyncStatus back to no drift",
    )
    assert (condition["phase"], condition["reason"]) == ("Synced", "UpToDate")


async def test_a_revert_after_an_upstream_status_write_is_still_drift_reverted(
    clusters: Clusters,
) -> None:
    """A status write upstream (the hub's aggregate) moves the workload's resourceVersion but
    not what it asks of the copy: reverting an edit below afterwards is still a revert, with
    its Event, not an update."""
    ns = await clusters.namespace("cf-status")
    await clusters.up.create(DEPLOYMENTS, deployment(ns, "web", strategy("upstream-wins")))
    await clusters.wait_copy(DEPLOYMENTS, ns, "web", lambda c: True, "the copy of cf-status/web")
    await clusters.up.patch(
        DEPLOYMENTS, "web", {"status": {"replicas": 2}}, ns, subresource="status"
    )

    await clusters.edit_copy(DEPLOYMENTS, ns, "web", EDIT)
    await clusters.wait_copy(
        DEPLOYMENTS, ns, "web", lambda c: c["spec"]["replicas"] == 2, "the edit below reverted"
    )
    events = await clusters.wait_event(ns, "web", "DriftReverted")
    message = (
        "upstream-wins: reverted drift below in spec.replicas, "
        "spec.template.spec.containers[0].image"
    )
    assert ("DriftReverted", "Normal", f"sync target c1: {message}") in events


async def test_retain_keeps_the_retained_path_and_reverts_the_rest(clusters: Clusters) -> None:
    ns = await clusters.namespace("cf-retain")
    notes = strategy("retain", "spec.replicas")
    created = await clusters.up.create(DEPLOYMENTS, deployment(ns, "web", notes))
    await clusters.wait_copy(DEPLOYMENTS, ns, "web", lambda c: True, "the copy of cf-retain/web")

    await clusters.edit_copy(DEPLOYMENTS, ns, "web", EDIT)
    copy = await clusters.wait_copy(
        DEPLOYMENTS, ns, "web", lambda c: image_of(c) == "app:1", "the image edit reverted"
    )
    assert copy["spec"]["replicas"] == 5
    events = await clusters.wait_event(ns, "web", "DriftReverted")
    message = (
        "retain: reverted drift below in spec.template.spec.containers[0].image; "
        "kept the downstream's spec.replicas"
    )
    assert ("DriftReverted", "Normal", f"sync target c1: {message}") in events
    condition = await clusters.wait_condition(
        ns,
        created["metadata"]["uid"],
        lambda c: c.get("message") == "retain: no drift; kept the downstream's spec.replicas",
        "the SyncStatus saying what retain kept",
    )
    assert condition["phase"] == "Synced"


async def test_abort_leaves_the_edit_and_reports_a_conflict(clusters: Clusters) -> None:
    ns = await clusters.namespace("cf-abort")
    created = await clusters.up.create(DEPLOYMENTS, deployment(ns, "web", strategy("abort")))
    await clusters.wait_copy(DEPLOYMENTS, ns, "web", lambda c: True, "the copy of cf-abort/web")

    await clusters.edit_copy(DEPLOYMENTS, ns, "web", {"spec": {"replicas": 5}})
    condition = await clusters.wait_condition(
        ns,
        created["metadata"]["uid"],
        lambda c: c.get("phase") == "Conflict",
        "a Conflict SyncStatus",
    )
    assert condition["reason"] == "Conflict"
    assert condition["status"] == "False"
    assert condition["message"] == "abort: the copy below differs in spec.replicas; left as it is"
    events = await clusters.wait_event(ns, "web", "Conflict")
    assert ("Conflict", "Warning", f"sync target c1: {condition['message']}") in events
    copy = await clusters.copy(DEPLOYMENTS, ns, "web")
    assert copy is not None
    assert copy["spec"]["replicas"] == 5


async def test_a_deleted_copy_is_recreated_under_every_strategy(clusters: Clusters) -> None:
    ns = await clusters.namespace("cf-delete")
    names = ("upstream-wins", "retain", "overwrite", "abort")
    for name in names:
        await clusters.up.create(CONFIGMAPS, configmap(ns, name, strategy(name, "data.color")))
    first = {}
    for name in names:
        copy = await clusters.wait_copy(CONFIGMAPS, ns, name, lambda c: True, f"the copy {name}")
        first[name] = copy["metadata"]["uid"]
        await clusters.down.delete(CONFIGMAPS, name, TARGET.namespace_below(ns))
    for name in names:
        again = await clusters.wait_copy(
            CONFIGMAPS,
            ns,
            name,
            lambda c, old=first[name]: c["metadata"]["uid"] != old,
            f"the deleted copy {name} recreated",
        )
        assert again["data"] == {"color": "red"}
        assert again["metadata"]["labels"][CLUSTER_LABEL] == TARGET.key
        events = await clusters.wait_event(ns, name, "Recreated")
        message = f"sync target c1: {name}: no copy below, creating it"
        assert ("Recreated", "Normal", message) in events


async def test_a_foreign_object_is_untouched_unless_overwrite(clusters: Clusters) -> None:
    ns = await clusters.namespace("cf-foreign")
    await clusters.up.create(CONFIGMAPS, configmap(ns, "first", {}))
    await clusters.wait_copy(CONFIGMAPS, ns, "first", lambda c: True, "the namespace below")
    below = TARGET.namespace_below(ns)
    for name in ("kept", "taken"):
        foreign = {"metadata": {"name": name, "namespace": below}, "data": {"color": "blue"}}
        await clusters.down.create(CONFIGMAPS, foreign)

    kept = await clusters.up.create(CONFIGMAPS, configmap(ns, "kept", {}))
    taken = await clusters.up.create(CONFIGMAPS, configmap(ns, "taken", strategy("overwrite")))

    condition = await clusters.wait_condition(
        ns,
        kept["metadata"]["uid"],
        lambda c: c.get("phase") == "Conflict",
        "a Conflict over the foreign object",
    )
    assert condition["message"].startswith(
        "upstream-wins: a foreign object (no marker label) is in the way, differing in data.color"
    )
    events = await clusters.wait_event(ns, "kept", "Conflict")
    assert ("Conflict", "Warning", f"sync target c1: {condition['message']}") in events

    copy = await clusters.wait_copy(
        CONFIGMAPS,
        ns,
        "taken",
        lambda c: c["data"]["color"] == "red",
        "the foreign object taken over",
    )
    assert copy["metadata"]["labels"][CLUSTER_LABEL] == TARGET.key
    events = await clusters.wait_event(ns, "taken", "TookOver")
    assert (
        "TookOver",
        "Normal",
        "sync target c1: overwrite: took over a foreign object (no marker label); it differed "
        f"in data.color, metadata.annotations[{UPSTREAM_GENERATION_ANNOTATION}], "
        f"metadata.labels.app, metadata.labels[{CLUSTER_LABEL}]",
    ) in events
    condition = await clusters.wait_condition(
        ns, taken["metadata"]["uid"], lambda c: c.get("phase") == "Synced", "a Synced status"
    )
    assert condition["status"] == "True"

    untouched = await clusters.copy(CONFIGMAPS, ns, "kept")
    assert untouched is not None
    assert untouched["data"] == {"color": "blue"}
    assert CLUSTER_LABEL not in (untouched["metadata"].get("labels") or {})


async def _write_until_accepted(
    client: KubeClient, ns: str, name: str, key: str, everyone_read: asyncio.Barrier
) -> int:
    """Read, wait for every writer to have read, then replace; on 409 read again. Counts 409s."""
    conflicts = 0
    current = await client.get(CONFIGMAPS, name, ns)
    await everyone_read.wait()
    while True:
        current["data"] = {**current.get("data", {}), key: "set"}
        try:
            await client.replace(CONFIGMAPS, current)
        except ApiError as error:
            if not error.conflict:
                raise
            conflicts += 1
            current = await client.get(CONFIGMAPS, name, ns)
            continue
        return conflicts


async def test_a_burst_of_concurrent_updates_ends_with_the_last_write_below(
    clusters: Clusters,
) -> None:
    ns = await clusters.namespace("cf-burst")
    await clusters.up.create(CONFIGMAPS, configmap(ns, "hot", {}))
    await clusters.wait_copy(CONFIGMAPS, ns, "hot", lambda c: True, "the copy of cf-burst/hot")

    count = 12
    everyone_read = asyncio.Barrier(count)
    conflicts = await asyncio.gather(
        *(
            _write_until_accepted(clusters.up, ns, "hot", f"w{i:02}", everyone_read)
            for i in range(count)
        )
    )
    assert sum(conflicts) >= count - 1
    final = await clusters.up.get(CONFIGMAPS, "hot", ns)
    assert len(final["data"]) == 13

    copy = await clusters.wait_copy(
        CONFIGMAPS,
        ns,
        "hot",
        lambda c: c["data"] == final["data"],
        "the last upstream write below",
    )
    assert copy["data"] == final["data"]


async def test_the_syncers_own_409s_are_read_again_until_the_copy_is_upstreams(
    clusters: Clusters, environment: SyncerProcessRig
) -> None:
    """An upstream burst while a writer below keeps editing the copy's `data.color`: the
    syncer's writes below, made from its cache's resourceVersion, meet 409s; it reads again,
    reverts the writer (upstream-wins) and ends with the last upstream write below."""
    ns = await clusters.namespace("cf-race")
    await clusters.up.create(CONFIGMAPS, configmap(ns, "raced", {}))
    await clusters.wait_copy(CONFIGMAPS, ns, "raced", lambda c: True, "the copy of cf-race/raced")
    below = TARGET.namespace_below(ns)
    log = environment.processes[0].log_path
    conflict_line = f"configmaps {ns}/raced: Conflict on the write below; reading it again"
    racing = True

    async def write_below() -> None:
        count = 0
        while racing:
            count += 1
            edit = {"data": {"color": f"below-{count}"}}
            await clusters.down.patch(CONFIGMAPS, "raced", edit, below)

    async def burst_above() -> None:
        for round_ in range(20):
            await asyncio.gather(
                *(
                    clusters.up.patch(CONFIGMAPS, "raced", {"data": {f"w{n}": str(round_)}}, ns)
                    for n in range(4)
                )
            )

    writer = asyncio.create_task(write_below())
    try:
        await burst_above()
        await await_until(
            lambda: asyncio.to_thread(log.read_text),
            lambda text: conflict_line in text,
            what=f"the syncer logging {conflict_line!r} while both sides write",
            timeout=WAIT,
        )
    finally:
        racing = False
        await writer
    final = await clusters.up.get(CONFIGMAPS, "raced", ns)
    assert final["data"] == {"color": "red", "w0": "19", "w1": "19", "w2": "19", "w3": "19"}
    await clusters.wait_copy(
        CONFIGMAPS,
        ns,
        "raced",
        lambda c: c["data"] == final["data"],
        "the copy equal to the last upstream write, the writer below reverted",
    )


async def test_an_autoscaler_on_replicas_is_kept_by_retain_and_fought_by_upstream_wins(
    clusters: Clusters,
) -> None:
    ns = await clusters.namespace("cf-hpa")
    calm = await clusters.up.create(
        DEPLOYMENTS, deployment(ns, "calm", strategy("retain", "spec.replicas"))
    )
    fought = await clusters.up.create(DEPLOYMENTS, deployment(ns, "fought", {}))
    for name in ("calm", "fought"):
        await clusters.wait_copy(DEPLOYMENTS, ns, name, lambda c: True, f"the copy {name}")

    for replicas in (3, 4, 5):
        for name in ("calm", "fought"):
            await clusters.edit_copy(DEPLOYMENTS, ns, name, {"spec": {"replicas": replicas}})
        await clusters.wait_copy(
            DEPLOYMENTS,
            ns,
            "fought",
            lambda c: c["spec"]["replicas"] == 2,
            f"the autoscaler's {replicas} reverted under upstream-wins",
        )

    await clusters.up.patch(
        DEPLOYMENTS,
        "calm",
        {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "app:2"}]}}}},
        ns,
    )
    copy = await clusters.wait_copy(
        DEPLOYMENTS, ns, "calm", lambda c: image_of(c) == "app:2", "the new image rolled out"
    )
    assert copy["spec"]["replicas"] == 5

    fights = await await_until(
        lambda: clusters.events(ns, "fought"),
        lambda found: sum(event[0] == "DriftReverted" for event in found) >= 3,
        what="a DriftReverted Event for each of the autoscaler's writes",
        timeout=WAIT,
    )
    assert all(
        message == "sync target c1: upstream-wins: reverted drift below in spec.replicas"
        for reason, _, message in fights
        if reason == "DriftReverted"
    )
    condition = await clusters.synced_condition(ns, fought["metadata"]["uid"])
    assert condition["phase"] == "Synced"
    calm_events = await clusters.events(ns, "calm")
    assert not any(event[0] == "DriftReverted" for event in calm_events)
    condition = await clusters.synced_condition(ns, calm["metadata"]["uid"])
    assert condition["phase"] == "Synced"


async def test_an_immutable_field_change_below_is_a_delete_and_create(clusters: Clusters) -> None:
    """The target refuses to change a Deployment's selector (422 ``field is immutable``), so the
    takeover of a foreign copy with another selector deletes it and creates the copy again."""
    ns = await clusters.namespace("cf-immutable")
    await clusters.up.create(CONFIGMAPS, configmap(ns, "first", {}))
    await clusters.wait_copy(CONFIGMAPS, ns, "first", lambda c: True, "the namespace below")
    foreign = deployment(ns, "other", {})
    foreign["metadata"] = {"name": "web", "namespace": TARGET.namespace_below(ns)}
    old = await clusters.down.create(DEPLOYMENTS, foreign)
    upstream = await clusters.up.create(DEPLOYMENTS, deployment(ns, "web", strategy("overwrite")))
    copy = await clusters.wait_copy(
        DEPLOYMENTS,
        ns,
        "web",
        lambda c: c["metadata"]["uid"] != old["metadata"]["uid"],
        "the copy created again with the upstream selector",
    )
    assert copy["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    events = await clusters.wait_event(ns, "web", "Recreated")
    [message] = [text for reason, _, text in events if reason == "Recreated"]
    assert message.startswith("sync target c1: an immutable field changed (")
    assert "spec.selector: Invalid value" in message
    assert message.endswith("field is immutable): deleted and created again")
    condition = await clusters.wait_condition(
        ns, upstream["metadata"]["uid"], lambda c: c.get("phase") == "Synced", "a Synced status"
    )
    assert condition["status"] == "True"
