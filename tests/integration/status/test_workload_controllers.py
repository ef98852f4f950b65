"""The simulator's workload controllers against an embedded cluster, seen through kubectl:
Deployments own ReplicaSets with revisions (``rollout history``/``undo``), ReplicaSets own Pods
(``get pods -l``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.client import KubeClient
from pytest_syncer.status.simulator import ProfileMap, Simulator
from pytest_syncer.status.workloads import HASH_LABEL, PODS, REVISION, template_hash
from tests.integration.apiserver.kubectl_runner import Kubectl, find_kubectl

CLUSTER = "controlled"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundAPIServer]:
    with BackgroundAPIServer([CLUSTER], tmp_path_factory.mktemp("kubeconfigs")) as running:
        yield running


@pytest.fixture
async def simulator(server: BackgroundAPIServer) -> AsyncIterator[Simulator]:
    kubeconfigs = [server.kubeconfigs[CLUSTER]]
    async with Simulator(kubeconfigs, ProfileMap(), time_scale=0.1, controllers=True) as running:
        yield running


@pytest.fixture
def kubectl(server: BackgroundAPIServer, tmp_path: Path) -> Kubectl:
    binary = find_kubectl("1.32")
    if binary is None:
        pytest.skip("kubectl.1.32 is not installed beside the image's kubectl")
    return Kubectl(binary, server.kubeconfigs[CLUSTER], tmp_path / "cache", "default")


async def _run(kubectl: Kubectl, *args: str) -> str:
    """kubectl off the event loop, so the simulator keeps working meanwhile."""
    result = await asyncio.to_thread(kubectl.run, *args)
    return result.stdout


async def _json(kubectl: Kubectl, *args: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(await _run(kubectl, *args, "-o", "json"))
    return document


def test_template_hash_is_stable_and_ignores_its_own_label() -> None:
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "a"}]}}
    hashed = template_hash(template)
    labelled = {**template, "metadata": {"labels": {"app": "web", HASH_LABEL: hashed}}}
    assert template_hash(labelled) == hashed
    assert set(hashed) <= set("bcdfghjklmnpqrstvwxz2456789")
    other = {**template, "spec": {"containers": [{"name": "b"}]}}
    assert template_hash(other) != hashed


@pytest.mark.usefixtures("simulator")
async def test_deployments_replicasets_pods_and_rollbacks(kubectl: Kubectl) -> None:
    await _run(kubectl, "create", "deployment", "web", "--image=nginx:1.0", "--replicas=3")

    async def pods() -> list[dict[str, Any]]:
        listed = await _json(kubectl, "get", "pods", "-l", "app=web")
        return list(listed["items"])

    first = await await_until(pods, lambda found: len(found) == 3, what="three pods of web")
    owners = {pod["metadata"]["ownerReferences"][0]["name"] for pod in first}
    assert len(owners) == 1
    replicaset = owners.pop()
    assert replicaset.startswith("web-")
    rs = await _json(kubectl, "get", "rs", replicaset)
    assert rs["metadata"]["annotations"][REVISION] == "1"
    assert rs["metadata"]["labels"][HASH_LABEL] == replicaset.removeprefix("web-")
    assert rs["metadata"]["ownerReferences"][0]["kind"] == "Deployment"

    await _run(kubectl, "set", "image", "deployment/web", "nginx=nginx:2.0")

    async def images() -> set[str]:
        return {pod["spec"]["containers"][0]["image"] for pod in await pods()}

    await await_until(images, lambda seen: seen == {"nginx:2.0"}, what="pods of revision 2")
    history = await _run(kubectl, "rollout", "history", "deployment/web")
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]

    await _run(kubectl, "rollout", "undo", "deployment/web")
    await await_until(images, lambda seen: seen == {"nginx:1.0"}, what="pods of revision 1")
    rs = await _json(kubectl, "get", "rs", replicaset)
    assert rs["metadata"]["annotations"][REVISION] == "3", "undo reuses the first ReplicaSet"
    deployment = await _json(kubectl, "get", "deployment", "web")
    assert deployment["metadata"]["annotations"][REVISION] == "3"
    history = await _run(kubectl, "rollout", "history", "deployment/web")
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["2", "3"]

    await _run(kubectl, "scale", "deployment/web", "--replicas=1")
    await await_until(pods, lambda found: len(found) == 1, what="web scaled to one pod")


@pytest.mark.usefixtures("simulator")
async def test_services_get_endpoints_and_slices_of_their_pods(kubectl: Kubectl) -> None:
    await _run(kubectl, "create", "deployment", "api", "--image=nginx", "--replicas=2", "--port=80")
    await _run(kubectl, "create", "service", "clusterip", "api", "--tcp=8080:80")

    async def endpoints() -> dict[str, Any]:
        return await _json(kubectl, "get", "endpoints", "api")

    shown = await await_until(
        endpoints,
        lambda found: len((found.get("subsets") or [{}])[0].get("addresses") or []) == 2,
        what="two ready addresses for api",
    )
    subset = shown["subsets"][0]
    assert subset["ports"] == [{"name": "8080-80", "port": 80, "protocol": "TCP"}]
    listed = await _json(kubectl, "get", "pods", "-l", "app=api")
    pod_names = {pod["metadata"]["name"] for pod in listed["items"]}
    assert {a["targetRef"]["name"] for a in subset["addresses"]} == pod_names
    slices = await _json(kubectl, "get", "endpointslices", "-l", "kubernetes.io/service-name=api")
    (endpoint_slice,) = slices["items"]
    assert endpoint_slice["addressType"] == "IPv4"
    assert sorted(e["addresses"][0] for e in endpoint_slice["endpoints"]) == sorted(
        a["ip"] for a in subset["addresses"]
    )
    assert all(e["conditions"]["ready"] for e in endpoint_slice["endpoints"])

    victim = sorted(pod_names)[0]
    await _run(kubectl, "delete", "pod", victim)
    replaced = await await_until(
        endpoints,
        lambda found: (
            len((found.get("subsets") or [{}])[0].get("addresses") or []) == 2
            and victim not in {a["targetRef"]["name"] for a in found["subsets"][0]["addresses"]}
        ),
        what="a replacement pod behind api",
    )
    assert len(replaced["subsets"][0]["addresses"]) == 2


@pytest.mark.usefixtures("simulator")
async def test_statefulsets_daemonsets_and_jobs_own_pods(kubectl: Kubectl) -> None:
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "replicas": 2,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "postgres"}]},
            },
        },
    }
    await asyncio.to_thread(kubectl.run, "create", "-f", "-", stdin=json.dumps(manifest))
    daemon = {
        **manifest,
        "kind": "DaemonSet",
        "metadata": {"name": "agent"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "agent", "image": "busybox"}]},
            },
        },
    }
    await asyncio.to_thread(kubectl.run, "create", "-f", "-", stdin=json.dumps(daemon))
    await _run(kubectl, "create", "job", "once", "--image=busybox", "--", "true")

    async def names(selector: str) -> list[str]:
        listed = await _json(kubectl, "get", "pods", "-l", selector)
        return sorted(pod["metadata"]["name"] for pod in listed["items"])

    await await_until(
        lambda: names("app=db"), lambda found: found == ["db-0", "db-1"], what="db-0 and db-1"
    )
    agents = await await_until(
        lambda: _json(kubectl, "get", "pods", "-l", "app=agent"),
        lambda found: len(found["items"]) == 3,
        what="one agent per node",
    )
    assert sorted(pod["spec"]["nodeName"] for pod in agents["items"]) == [
        "node-1",
        "node-2",
        "node-3",
    ]
    jobs = await await_until(
        lambda: names("batch.kubernetes.io/job-name=once"),
        lambda found: len(found) == 1,
        what="the job's pod",
    )
    assert jobs[0].startswith("once-")
    await _run(kubectl, "scale", "statefulset/db", "--replicas=1")
    await await_until(lambda: names("app=db"), lambda found: found == ["db-0"], what="db-1 gone")


async def test_the_simulator_finishes_terminating_pods_as_a_kubelet(
    server: BackgroundAPIServer, simulator: Simulator, kubectl: Kubectl
) -> None:
    """A DELETE marks a scheduled Pod (``deletionTimestamp``, ``deletionGracePeriodSeconds``
    from its ``terminationGracePeriodSeconds``: kube-apiserver's ``CheckGracefulDelete`` in
    ``pkg/registry/core/pod/strategy.go``); the simulator, playing the kubelet, then removes it
    with a period of 0, so watchers see MODIFIED then DELETED and ``kubectl delete`` (which
    waits for the Pod to be gone) returns. A Pod that is not scheduled needs no kubelet."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "stopping", "namespace": "default"},
        "spec": {
            "nodeName": "node-2",
            "terminationGracePeriodSeconds": 120,
            "containers": [{"name": "c", "image": "nginx"}],
        },
    }
    http = await KubeClient.from_kubeconfig(server.kubeconfigs[CLUSTER])
    try:
        created = await http.create(PODS, pod)
        seen: list[tuple[str, Any]] = []

        async def follow() -> None:
            revision = created["metadata"]["resourceVersion"]
            async for event in http.watch(PODS, revision, "default", timeout_seconds=60):
                if event["object"]["metadata"].get("name") != "stopping":
                    continue
                grace = event["object"]["metadata"].get("deletionGracePeriodSeconds")
                seen.append((event["type"], grace))
                if event["type"] == "DELETED":
                    return

        watching = asyncio.create_task(follow())
        await _run(kubectl, "delete", "pod", "stopping", "--timeout=30s")
        await asyncio.wait_for(watching, 30)
    finally:
        await http.close()
    deleting = [(kind, grace) for kind, grace in seen if grace is not None]
    assert deleting == [("MODIFIED", 120), ("MODIFIED", 0), ("DELETED", 0)], seen
