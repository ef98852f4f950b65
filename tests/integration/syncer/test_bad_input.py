"""Bad input the upstream accepts and a target (or the syncer) refuses, with a real syncer.

Each refused object's SyncStatus says Failed with the reason, a Warning Event records it, and
the syncer goes on: objects created after it sync. One pooled syncer serves two targets. Target
b1's cluster refuses by validation: an object whose annotations fit the 256 KiB limit upstream,
but not below once the syncer adds its own annotation (the real API server's limit and message).
Target b2's cluster refuses by admission, as real clusters differ: it runs the
DenyServiceExternalIPs plugin, so a Service with `spec.externalIPs` that b1 takes is Forbidden
there. A custom resource whose CRD only the upstream has is in `test_bad_input_crd.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.contract.naming import (
    CLUSTER_ANNOTATION,
)
from pytest_syncer.contract.objects import KubeObject
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.client import EVENTS, NAMESPACES, KubeClient, Resource
from pytest_syncer.syncer.conflict import CONFLICT_STRATEGY_ANNOTATION, RETAIN_FIELDS_ANNOTATION
from pytest_syncer.syncer.engine.settings import KNOWN_RESOURCES
from tests.integration.syncer.environment import (
    UPSTREAM,
    SyncerProcessRig,
    TargetInfo,
    setup_environment,
)
from tests.integration.syncer.workloads import synced_condition

TARGET = TargetInfo("b1", "down-1")
STRICT = TargetInfo("b2", "strict-1")
STRICT_PLUGINS = ["DenyServiceExternalIPs"]
CONFIGMAPS = KNOWN_RESOURCES["configmaps"]
SERVICES = KNOWN_RESOURCES["services"]
EXTERNAL_IP = "192.0.2.10"
ANNOTATION_LIMIT = 256 * 1024
WAIT = 15.0


@pytest.fixture(scope="module")
def environment(
    apiserver: BackgroundAPIServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SyncerProcessRig]:
    apiserver.add_cluster(STRICT.downstream, admission_plugins=STRICT_PLUGINS)
    env = setup_environment(
        apiserver.kubeconfigs, tmp_path_factory.mktemp("bad-input"), [TARGET, STRICT]
    )
    try:
        env.syncer([TARGET.name, STRICT.name]).start()
        yield env
    finally:
        env.stop()


@pytest.fixture
async def downstream(environment: SyncerProcessRig) -> AsyncIterator[KubeClient]:
    async with await environment.client(TARGET.downstream) as client:
        yield client


@pytest.fixture
async def strict(environment: SyncerProcessRig) -> AsyncIterator[KubeClient]:
    async with await environment.client(STRICT.downstream) as client:
        yield client


def configmap(
    ns: str, name: str, notes: dict[str, str] | None = None, target: TargetInfo = TARGET
) -> KubeObject:
    metadata: dict[str, Any] = {"name": name, "namespace": ns, "labels": {target.label: "Sync"}}
    if notes:
        metadata["annotations"] = notes
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {"k": "v"}}


def service(
    ns: str, name: str, targets: list[TargetInfo], external_ips: list[str] | None = None
) -> KubeObject:
    labels = {target.label: "Sync" for target in targets}
    spec: dict[str, Any] = {"selector": {"app": name}, "ports": [{"port": 80}]}
    if external_ips is not None:
        spec["externalIPs"] = external_ips
    metadata = {"name": name, "namespace": ns, "labels": labels}
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}


async def wait_phase(
    upstream: KubeClient, obj: KubeObject, phase: str, target: TargetInfo = TARGET
) -> dict[str, Any]:
    ns, name, uid = (obj["metadata"][key] for key in ("namespace", "name", "uid"))
    return await await_until(
        lambda: synced_condition(upstream, ns, uid, target),
        lambda condition: condition.get("phase") == phase,
        what=f"a {phase} SyncStatus for {ns}/{name} on target {target.name}",
        timeout=WAIT,
    )


async def wait_failed(
    upstream: KubeClient, obj: KubeObject, target: TargetInfo = TARGET
) -> dict[str, Any]:
    return await wait_phase(upstream, obj, "Failed", target)


async def failed_events(upstream: KubeClient, ns: str, name: str) -> list[tuple[str, str]]:
    listing = await upstream.list(EVENTS, ns, field_selector=f"involvedObject.name={name}")
    return [
        (item["type"], item["message"]) for item in listing["items"] if item["reason"] == "Failed"
    ]


async def wait_failed_event(
    upstream: KubeClient, ns: str, name: str, message: str, target: TargetInfo = TARGET
) -> None:
    await await_until(
        lambda: failed_events(upstream, ns, name),
        lambda found: ("Warning", f"sync target {target.name}: {message}") in found,
        what=f"a Warning Failed Event on {ns}/{name} saying {message!r}",
        timeout=WAIT,
    )


async def wait_synced_below(
    downstream: KubeClient,
    ns: str,
    name: str,
    resource: Resource = CONFIGMAPS,
    target: TargetInfo = TARGET,
) -> KubeObject:
    found = await await_until(
        lambda: downstream.get_or_none(resource, name, target.namespace_below(ns)),
        lambda copy: copy is not None,
        what=f"the copy of {ns}/{name} below target {target.name}",
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
        lambda: synced_condition(upstream, ns, bad["metadata"]["uid"], TARGET),
        lambda found: found.get("phase") == "Synced",
        what="the fixed object's SyncStatus Synced",
        timeout=WAIT,
    )
    assert condition["status"] == "True"


async def test_a_service_one_target_admission_refuses_fails_there_and_syncs_elsewhere(
    upstream: KubeClient, downstream: KubeClient, strict: KubeClient
) -> None:
    ns = "bad-external-ips"
    await upstream.create(NAMESPACES, {"metadata": {"name": ns}})
    web = await upstream.create(SERVICES, service(ns, "web", [TARGET, STRICT], [EXTERNAL_IP]))

    condition = await wait_failed(upstream, web, STRICT)
    refused = (
        'the target refused the object: 403 Forbidden: services "web" is forbidden: '
        "Use of external IPs is denied by admission control"
    )
    assert (condition["status"], condition["reason"], condition["message"]) == (
        "False",
        "Failed",
        refused,
    )
    await wait_failed_event(upstream, ns, "web", refused, STRICT)
    copy = await wait_synced_below(downstream, ns, "web", SERVICES)
    assert copy["spec"]["externalIPs"] == [EXTERNAL_IP]
    await wait_phase(upstream, web, "Synced", TARGET)
    assert await strict.get_or_none(SERVICES, "web", STRICT.namespace_below(ns)) is None

    await upstream.create(SERVICES, service(ns, "plain", [STRICT]))
    await upstream.create(CONFIGMAPS, configmap(ns, "after", target=STRICT))
    await wait_synced_below(strict, ns, "plain", SERVICES, STRICT)
    await wait_synced_below(strict, ns, "after", CONFIGMAPS, STRICT)

    await upstream.patch(SERVICES, "web", {"spec": {"externalIPs": None}}, ns)
    below = await wait_synced_below(strict, ns, "web", SERVICES, STRICT)
    assert "externalIPs" not in below["spec"]
    await wait_phase(upstream, web, "Synced", STRICT)

    await upstream.patch(SERVICES, "web", {"spec": {"externalIPs": [EXTERNAL_IP]}}, ns)
    condition = await wait_failed(upstream, web, STRICT)
    assert condition["message"] == refused
    kept = await strict.get(SERVICES, "web", STRICT.namespace_below(ns))
    assert kept["metadata"]["uid"] == below["metadata"]["uid"]
    assert "externalIPs" not in kept["spec"]
