"""The official ``kubernetes`` client, over HTTPS with the kubeconfigs the server wrote."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config, dynamic, watch
from kubernetes.aio import client as aio_client
from kubernetes.aio import config as aio_config
from kubernetes.aio import watch as aio_watch
from kubernetes.client.rest import ApiException

from pytest_syncer.apiserver import BackgroundAPIServer, EmbeddedAPIServer
from pytest_syncer.apiserver.kubeconfig import context_from_kubeconfig, load_kubeconfig
from pytest_syncer.harness.waiting import await_until, wait_until

MERGE = "application/merge-patch+json"


@pytest.fixture(scope="module")
def api_client(apiserver: BackgroundAPIServer) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(config_file=str(apiserver.kubeconfigs["upstream"]))
    yield api
    api.close()


def _config_map(name: str, labels: dict[str, str] | None = None) -> client.V1ConfigMap:
    return client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=name, labels=labels), data={"key": "value"}
    )


def test_core_v1_crud_and_list(api_client: client.ApiClient) -> None:
    core: Any = client.CoreV1Api(api_client)
    created = core.create_namespaced_config_map("default", _config_map("crud", {"app": "a"}))
    assert created.metadata.uid
    assert created.metadata.annotations["kcp.io/cluster"] == "upstream"
    created.data["key"] = "changed"
    replaced = core.replace_namespaced_config_map("crud", "default", created)
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    listed = core.list_namespaced_config_map("default", label_selector="app in (a, b)")
    assert [item.metadata.name for item in listed.items] == ["crud"]
    assert core.list_config_map_for_all_namespaces(label_selector="app=zzz").items == []
    with pytest.raises(ApiException) as stale:
        core.replace_namespaced_config_map("crud", "default", created)
    assert stale.value.status == 409
    core.delete_namespaced_config_map("crud", "default")
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_config_map("crud", "default")
    assert gone.value.status == 404


def test_namespaces_and_service_accounts_exist_at_birth(api_client: client.ApiClient) -> None:
    core: Any = client.CoreV1Api(api_client)
    names = {ns.metadata.name for ns in core.list_namespace().items}
    assert {"default", "kube-system", "kube-public"} <= names
    accounts = core.list_service_account_for_all_namespaces(field_selector="metadata.name=default")
    assert sorted(sa.metadata.namespace for sa in accounts.items) == [
        "default",
        "kube-public",
        "kube-system",
    ]


def test_apps_v1_deployment_status_and_generation(api_client: client.ApiClient) -> None:
    apps: Any = client.AppsV1Api(api_client)
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "web"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")]),
            ),
        ),
        status=client.V1DeploymentStatus(replicas=99),
    )
    created = apps.create_namespaced_deployment("default", body)
    assert created.metadata.generation == 1
    assert created.status is None or created.status.replicas is None
    status = apps.patch_namespaced_deployment_status(
        "web", "default", {"status": {"replicas": 2, "readyReplicas": 1}}, _content_type=MERGE
    )
    assert status.status.ready_replicas == 1
    assert status.metadata.generation == 1
    scaled = apps.patch_namespaced_deployment(
        "web", "default", {"spec": {"replicas": 3}}, _content_type=MERGE
    )
    assert scaled.metadata.generation == 2
    assert scaled.status.ready_replicas == 1
    labelled = apps.patch_namespaced_deployment(
        "web", "default", {"metadata": {"labels": {"tier": "front"}}}, _content_type=MERGE
    )
    assert labelled.metadata.generation == 2
    apps.delete_namespaced_deployment("web", "default")


def test_dynamic_client_discovers_and_serves_every_type(
    apiserver: BackgroundAPIServer, api_client: client.ApiClient, tmp_path: Path
) -> None:
    dyn = dynamic.DynamicClient(api_client, cache_file=str(tmp_path / "discovery.json"))
    targets = dyn.resources.get(api_version="workload.kcp.io/v1alpha1", kind="SyncTarget")
    assert not targets.namespaced
    target = targets.create(
        body={
            "apiVersion": "workload.kcp.io/v1alpha1",
            "kind": "SyncTarget",
            "metadata": {"name": "us-east1"},
            "spec": {},
        }
    )
    assert target.metadata.name == "us-east1"
    targets.status.patch(
        name="us-east1",
        body={"status": {"lastSyncerHeartbeatTime": "2026-01-01T00:00:00Z"}},
        content_type="application/merge-patch+json",
    )
    fetched = targets.get(name="us-east1")
    assert fetched.status.lastSyncerHeartbeatTime == "2026-01-01T00:00:00Z"
    for api_version, kind in [
        ("v1", "Secret"),
        ("apps/v1", "StatefulSet"),
        ("batch/v1", "Job"),
        ("networking.k8s.io/v1", "Ingress"),
        ("coordination.k8s.io/v1", "Lease"),
        ("workload.kcp.io/v1alpha1", "SyncStatus"),
    ]:
        resource = dyn.resources.get(api_version=api_version, kind=kind)
        assert resource.namespaced
        assert resource.get(namespace="default").items == []


def test_watch_sees_existing_then_changes(api_client: client.ApiClient) -> None:
    core: Any = client.CoreV1Api(api_client)
    core.create_namespaced_config_map("default", _config_map("watched-1"))
    seen: list[tuple[str, str]] = []
    watcher = watch.Watch()

    def follow() -> None:
        for event in watcher.stream(core.list_namespaced_config_map, "default", timeout_seconds=20):
            seen.append((event["type"], event["object"].metadata.name))
            if event["object"].metadata.name == "watched-2" and event["type"] == "DELETED":
                watcher.stop()

    thread = threading.Thread(target=follow)
    thread.start()
    wait_until(lambda: list(seen), lambda s: ("ADDED", "watched-1") in s, what="initial ADDED")
    core.create_namespaced_config_map("default", _config_map("watched-2"))
    core.delete_namespaced_config_map("watched-2", "default")
    thread.join(20)
    assert not thread.is_alive()
    assert seen[-2:] == [("ADDED", "watched-2"), ("DELETED", "watched-2")]


def test_watch_resumes_from_resource_version(api_client: client.ApiClient) -> None:
    core: Any = client.CoreV1Api(api_client)
    first = core.create_namespaced_config_map("default", _config_map("resume-1"))
    core.create_namespaced_config_map("default", _config_map("resume-2"))
    events = []
    for event in watch.Watch().stream(
        core.list_namespaced_config_map,
        "default",
        resource_version=first.metadata.resource_version,
        timeout_seconds=1,
    ):
        events.append((event["type"], event["object"].metadata.name))
    assert events == [("ADDED", "resume-2")]


def test_watch_raises_410_after_retrying_once(tmp_path: Path) -> None:
    with BackgroundAPIServer(["one"], tmp_path, watch_retention=0.2) as server:
        api = config.new_client_from_config(config_file=str(server.kubeconfigs["one"]))
        core: Any = client.CoreV1Api(api)
        old = core.create_namespaced_config_map("default", _config_map("old"))
        revision = old.metadata.resource_version

        def watch_from_old() -> int:
            try:
                for _ in watch.Watch().stream(
                    core.list_namespaced_config_map, "default", resource_version=revision
                ):
                    return 200
            except ApiException as exc:
                return int(exc.status)
            return 200

        def touch_and_watch() -> int:
            core.patch_namespaced_config_map(
                "old", "default", [{"op": "add", "path": "/data/n", "value": "1"}]
            )
            return watch_from_old()

        wait_until(touch_and_watch, lambda code: code == 410, what="410 from a compacted rv")
        api.close()


async def test_async_client_crud_and_watch(apiserver: BackgroundAPIServer) -> None:
    api = await aio_config.new_client_from_config(
        config_file=str(apiserver.kubeconfigs["target-1"])
    )
    async with api:
        core: Any = aio_client.CoreV1Api(api)
        created = await core.create_namespaced_config_map(
            "default", {"metadata": {"name": "async-one"}, "data": {"a": "b"}}
        )
        assert created.metadata.annotations["kcp.io/cluster"] == "target-1"
        names = []
        async with aio_watch.Watch() as watcher:
            async for event in watcher.stream(
                core.list_namespaced_config_map, "default", timeout_seconds=1
            ):
                names.append((event["type"], event["object"].metadata.name))
        assert ("ADDED", "async-one") in names
        await core.delete_namespaced_config_map("async-one", "default")


async def test_async_watch_raises_410_for_a_compacted_resource_version(tmp_path: Path) -> None:
    async with EmbeddedAPIServer(["one"], tmp_path, watch_retention=0.2) as server:
        api = await aio_config.new_client_from_config(config_file=str(server.kubeconfigs["one"]))
        async with api:
            core: Any = aio_client.CoreV1Api(api)
            old = await core.create_namespaced_config_map(
                "default", {"metadata": {"name": "old"}, "data": {}}
            )

            async def touch_and_watch_from_old() -> int:
                await core.patch_namespaced_config_map(
                    "old", "default", [{"op": "add", "path": "/data/n", "value": "1"}]
                )
                try:
                    async with aio_watch.Watch() as watcher:
                        async for _ in watcher.stream(
                            core.list_namespaced_config_map,
                            "default",
                            resource_version=old.metadata.resource_version,
                        ):
                            return 200
                except aio_client.ApiException as exc:
                    return int(exc.status)
                return 200

            await await_until(
                touch_and_watch_from_old, lambda code: code == 410, what="410 from the async watch"
            )


def test_token_review_with_the_typed_client(
    apiserver: BackgroundAPIServer, api_client: client.ApiClient
) -> None:
    authentication: Any = client.AuthenticationV1Api(api_client)
    token = context_from_kubeconfig(load_kubeconfig(apiserver.kubeconfigs["upstream"])).token
    spec = client.V1TokenReviewSpec(token=token, audiences=["hub"])
    review = authentication.create_token_review(client.V1TokenReview(spec=spec))
    assert review.status.authenticated is True
    assert review.status.user.username == "system:cluster:upstream"
    assert review.status.audiences == ["hub"]
    assert review.spec.token == ""


def test_watch_with_bookmarks(api_client: client.ApiClient) -> None:
    core: Any = client.CoreV1Api(api_client)
    kinds = [
        event["type"]
        for event in watch.Watch().stream(
            core.list_namespaced_config_map,
            "kube-public",
            allow_watch_bookmarks=True,
            timeout_seconds=1,
        )
    ]
    assert "BOOKMARK" in kinds
