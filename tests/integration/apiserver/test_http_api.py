"""The API over raw HTTPS: authentication, Status errors, object rules, watch details."""

from __future__ import annotations

import http.client
import json
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.contract.naming import sync_target_key
from pytest_syncer.harness.waiting import wait_until
from tests.integration.apiserver.clients import ClusterClient
from tests.support.tokens import token_of

CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


def _status(response: requests.Response, code: int, reason: str | None = None) -> dict[str, Any]:
    assert response.status_code == code, response.text
    body: dict[str, Any] = response.json()
    assert body["kind"] == "Status"
    assert body["code"] == code
    if reason is not None:
        assert body["reason"] == reason
    return body


def _config_map(name: str, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, **extra}


def _deployment(name: str, replicas: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }


def _events(response: requests.Response) -> Iterator[dict[str, Any]]:
    for line in response.iter_lines():
        if line:
            yield json.loads(line)


# Authentication.


def test_requests_without_or_with_a_bad_token_get_401(apiserver: BackgroundAPIServer) -> None:
    anonymous = ClusterClient(apiserver.url, None, str(apiserver.ca_file))
    _status(anonymous.get("/clusters/upstream/api/v1/namespaces"), 401, "Unauthorized")
    forged = ClusterClient(apiserver.url, "not-a-token", str(apiserver.ca_file))
    _status(forged.get("/clusters/upstream/api/v1/namespaces"), 401, "Unauthorized")
    _status(forged.get("/version"), 401)
    for probe in ("/healthz", "/readyz", "/livez"):
        assert anonymous.get(probe).text == "ok"


def test_a_cluster_token_is_refused_elsewhere_and_the_admin_token_works(
    apiserver: BackgroundAPIServer, upstream: ClusterClient, admin: ClusterClient
) -> None:
    target_token = token_of(apiserver.kubeconfigs["target-1"])
    as_target = ClusterClient(apiserver.url, target_token, str(apiserver.ca_file))
    assert as_target.get("/clusters/target-1/api/v1/namespaces").status_code == 200
    _status(as_target.get("/clusters/upstream/api/v1/namespaces"), 403, "Forbidden")
    _status(as_target.get("/clusters/*/api/v1/namespaces"), 403, "Forbidden")
    assert upstream.post(CONFIGMAPS, _config_map("mine")).status_code == 201
    for cluster in ("upstream", "target-1"):
        assert admin.get(f"/clusters/{cluster}/api/v1/namespaces").status_code == 200
    everywhere = admin.get("/clusters/*/api/v1/namespaces").json()
    clusters = {item["metadata"]["annotations"]["kcp.io/cluster"] for item in everywhere["items"]}
    assert clusters == {"upstream", "target-1"}
    _status(admin.post("/clusters/*" + CONFIGMAPS, _config_map("x")), 405)
    _status(admin.get("/clusters/nowhere/api/v1/namespaces"), 404, "NotFound")


def test_admin_kubeconfig_has_a_context_per_cluster_and_the_wildcard(
    apiserver: BackgroundAPIServer,
) -> None:
    admin_token = token_of(apiserver.admin_kubeconfig)
    assert token_of(apiserver.admin_kubeconfig, "*") == admin_token
    assert token_of(apiserver.admin_kubeconfig, "target-1") == admin_token
    assert admin_token != token_of(apiserver.kubeconfigs["upstream"])


# Errors never stop the server.


def _raw_get(apiserver: BackgroundAPIServer, path: str) -> tuple[int, dict[str, Any]]:
    """GET ``path`` byte for byte: requests and urllib3 would resolve ``..`` before sending."""
    context = ssl.create_default_context(cafile=str(apiserver.ca_file))
    host, port = apiserver.url.removeprefix("https://").rsplit(":", 1)
    connection = http.client.HTTPSConnection(host, int(port), context=context, timeout=30)
    try:
        token = token_of(apiserver.admin_kubeconfig)
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.parametrize(
    "path",
    ["/clusters/../api/v1/namespaces", "/clusters/upstream/api/v1/namespaces/../configmaps"],
)
def test_dot_segments_are_refused(apiserver: BackgroundAPIServer, path: str) -> None:
    code, body = _raw_get(apiserver, path)
    assert (code, body["kind"], body["code"]) == (400, "Status", 400)
    assert _raw_get(apiserver, "/clusters/upstream/api/v1/namespaces/default")[0] == 200


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/clusters/%2F/api/v1/namespaces", 400),
        ("/clusters//api/v1/namespaces", 400),
        ("/clusters/UPPER/api/v1/namespaces", 400),
        ("/clusters/upstream/api/v1/namespaces/default/configmaps/a%2Fb", 400),
        ("/clusters/upstream/api/v1/namespaces/default/configmaps/a%0Ab", 404),
        ("/clusters/up%0Astream/api/v1/namespaces", 400),
        ("/clusters/upstream/api/v1/widgets", 404),
        ("/clusters/upstream/apis/nothing.example.com/v1/things", 404),
        ("/clusters/upstream/apis/apps/v1/namespaces/default/deployments/x/scale/y", 404),
        ("/nowhere", 404),
        ("/clusters", 404),
    ],
)
def test_odd_paths_get_a_status_and_the_server_keeps_serving(
    admin: ClusterClient, path: str, code: int
) -> None:
    _status(admin.get(path), code)
    assert admin.get("/clusters/upstream/api/v1/namespaces/default").status_code == 200


def test_bad_bodies_get_a_status_and_the_server_keeps_serving(upstream: ClusterClient) -> None:
    headers = {"Content-Type": "application/json"}
    _status(upstream.request("POST", CONFIGMAPS, data=b"{not json", headers=headers), 400)
    _status(upstream.request("POST", CONFIGMAPS, data=b"[1, 2]", headers=headers), 400)
    _status(upstream.request("POST", CONFIGMAPS, data=b"", headers=headers), 400)
    _status(upstream.post(CONFIGMAPS, {"kind": "Secret", "metadata": {"name": "k"}}), 400)
    _status(upstream.post(CONFIGMAPS, {"apiVersion": "apps/v1", "metadata": {"name": "k"}}), 400)
    wrong_namespace = _config_map("k")
    wrong_namespace["metadata"]["namespace"] = "kube-system"
    _status(upstream.post(CONFIGMAPS, wrong_namespace), 400)
    huge = json.dumps(_config_map("huge", data={"k": "x" * (3 * 1024 * 1024)})).encode()
    _status(upstream.request("POST", CONFIGMAPS, data=huge, headers=headers), 413)
    chunks = (huge[start : start + 65536] for start in range(0, len(huge), 65536))
    chunked = upstream.request("POST", CONFIGMAPS, data=chunks, headers=headers)
    assert "Content-Length" not in chunked.request.headers
    _status(chunked, 413)
    _status(upstream.patch(f"{CONFIGMAPS}/absent", {"data": {"k": "x" * (3 << 20)}}, MERGE), 413)
    protobuf = {"Content-Type": "application/vnd.kubernetes.protobuf"}
    _status(upstream.request("POST", CONFIGMAPS, data=b"k8s\x00", headers=protobuf), 400)
    assert upstream.post(CONFIGMAPS, _config_map("after-errors")).status_code == 201


def test_yaml_bodies_are_accepted(upstream: ClusterClient) -> None:
    manifest = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: b\n"
    headers = {"Content-Type": "application/yaml"}
    created = upstream.request("POST", CONFIGMAPS, data=manifest, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["data"] == {"a": "b"}
    _status(upstream.request("POST", CONFIGMAPS, data=b"a: [", headers=headers), 400)


def test_validation_errors_are_422_with_causes(upstream: ClusterClient) -> None:
    body = _status(upstream.post(CONFIGMAPS, _config_map("Bad_Name")), 422, "Invalid")
    assert any(cause["field"] == "metadata.name" for cause in body["details"]["causes"])
    labels = _config_map("ok", metadata={"name": "ok", "labels": {"k": "bad value!"}})
    body = _status(upstream.post(CONFIGMAPS, labels), 422, "Invalid")
    assert body["details"]["causes"]
    big = _config_map("big", data={"k": "x" * (1024 * 1024 + 1)})
    _status(upstream.post(CONFIGMAPS, big), 422, "Invalid")
    _status(upstream.post(CONFIGMAPS, {"metadata": {}}), 422, "Invalid")


def test_wrong_verbs_are_405(upstream: ClusterClient) -> None:
    _status(upstream.put(CONFIGMAPS, _config_map("x")), 405)
    _status(upstream.get("/apis/authentication.k8s.io/v1/tokenreviews"), 405)
    _status(upstream.post("/api/v1/configmaps", _config_map("x")), 405)
    _status(upstream.request("POST", "/api"), 405)


def test_namespaced_objects_need_their_namespace(upstream: ClusterClient) -> None:
    body = _status(
        upstream.post("/api/v1/namespaces/absent/configmaps", _config_map("x")), 404, "NotFound"
    )
    assert "absent" in body["message"]


# Object rules.


def test_already_exists_conflict_and_generate_name(upstream: ClusterClient) -> None:
    created = upstream.post(CONFIGMAPS, _config_map("dup")).json()
    _status(upstream.post(CONFIGMAPS, _config_map("dup")), 409, "AlreadyExists")
    changed = {**created, "data": {"a": "1"}}
    assert upstream.put(f"{CONFIGMAPS}/dup", changed).status_code == 200
    _status(upstream.put(f"{CONFIGMAPS}/dup", changed), 409, "Conflict")
    generated = upstream.post(CONFIGMAPS, {"metadata": {"generateName": "gen-"}}).json()
    assert generated["metadata"]["name"].startswith("gen-")
    assert len(generated["metadata"]["name"]) == len("gen-") + 5


def test_unchanged_writes_do_not_bump_the_resource_version(upstream: ClusterClient) -> None:
    created = upstream.post(CONFIGMAPS, _config_map("same", data={"a": "1"})).json()
    again = upstream.put(f"{CONFIGMAPS}/same", created).json()
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_status_subresource_splits_writes(upstream: ClusterClient) -> None:
    created = upstream.post(DEPLOYMENTS, _deployment("split")).json()
    assert created["metadata"]["generation"] == 1
    with_status = {**created, "status": {"replicas": 5}}
    main = upstream.put(f"{DEPLOYMENTS}/split", with_status).json()
    assert "status" not in main
    assert main["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    status_write = {**main, "spec": {**main["spec"], "replicas": 9}, "status": {"replicas": 5}}
    status = upstream.put(f"{DEPLOYMENTS}/split/status", status_write).json()
    assert status["status"] == {"replicas": 5}
    assert status["spec"]["replicas"] == 1
    assert status["metadata"]["generation"] == 1
    assert upstream.get(f"{DEPLOYMENTS}/split/status").json()["status"] == {"replicas": 5}
    scaled = upstream.patch(f"{DEPLOYMENTS}/split", {"spec": {"replicas": 2}}, MERGE).json()
    assert scaled["metadata"]["generation"] == 2
    assert scaled["status"] == {"replicas": 5}


def test_patch_types(upstream: ClusterClient) -> None:
    upstream.post(CONFIGMAPS, _config_map("patched", data={"a": "1"}))
    merged = upstream.patch(f"{CONFIGMAPS}/patched", {"data": {"b": "2", "a": None}}, MERGE)
    assert merged.json()["data"] == {"b": "2"}
    operations = [{"op": "add", "path": "/data/c", "value": "3"}]
    assert upstream.patch(f"{CONFIGMAPS}/patched", operations, JSON_PATCH).json()["data"] == {
        "b": "2",
        "c": "3",
    }
    failing = [{"op": "test", "path": "/data/c", "value": "nope"}]
    _status(upstream.patch(f"{CONFIGMAPS}/patched", failing, JSON_PATCH), 422)
    stale = {"metadata": {"resourceVersion": "1"}, "data": {"z": "z"}}
    _status(upstream.patch(f"{CONFIGMAPS}/patched", stale, MERGE), 409, "Conflict")
    _status(upstream.patch(f"{CONFIGMAPS}/patched", {}, "text/plain"), 415)
    _status(upstream.patch(f"{CONFIGMAPS}/absent", {}, MERGE), 404, "NotFound")


def test_finalizers_hold_deletion_until_released(upstream: ClusterClient) -> None:
    body = _config_map("held", metadata={"name": "held", "finalizers": ["example.com/hold"]})
    upstream.post(CONFIGMAPS, body)
    deleting = upstream.delete(f"{CONFIGMAPS}/held")
    assert deleting.status_code == 200
    assert deleting.json()["metadata"]["deletionTimestamp"]
    assert upstream.get(f"{CONFIGMAPS}/held").json()["metadata"]["deletionTimestamp"]
    released = upstream.patch(f"{CONFIGMAPS}/held", {"metadata": {"finalizers": None}}, MERGE)
    assert released.status_code == 200
    _status(upstream.get(f"{CONFIGMAPS}/held"), 404)


def test_delete_preconditions_and_collections(upstream: ClusterClient) -> None:
    labels = {"sweep": "yes"}
    for name in ("sweep-a", "sweep-b"):
        upstream.post(CONFIGMAPS, _config_map(name, metadata={"name": name, "labels": labels}))
    wrong_uid = {"preconditions": {"uid": "not-the-uid"}}
    _status(upstream.request("DELETE", f"{CONFIGMAPS}/sweep-a", json=wrong_uid), 409)
    swept = upstream.delete(CONFIGMAPS, params={"labelSelector": "sweep=yes"}).json()
    assert sorted(item["metadata"]["name"] for item in swept["items"]) == ["sweep-a", "sweep-b"]
    assert upstream.get(CONFIGMAPS, params={"labelSelector": "sweep"}).json()["items"] == []


def test_deleting_a_namespace_deletes_its_contents(upstream: ClusterClient) -> None:
    assert upstream.post("/api/v1/namespaces", {"metadata": {"name": "doomed"}}).status_code == 201
    account = upstream.get("/api/v1/namespaces/doomed/serviceaccounts/default")
    assert account.status_code == 200, "a new namespace gets its default ServiceAccount"
    upstream.post("/api/v1/namespaces/doomed/configmaps", _config_map("inside"))
    assert upstream.delete("/api/v1/namespaces/doomed").status_code == 200
    wait_until(
        lambda: upstream.get("/api/v1/namespaces/doomed/configmaps/inside").status_code,
        lambda code: code == 404,
        what="the namespace controller to delete what the namespace held",
    )


# Lists and selectors.


def test_lists_are_typed_and_never_null(upstream: ClusterClient) -> None:
    listed = upstream.get("/apis/batch/v1/namespaces/default/jobs").json()
    assert listed["kind"] == "JobList"
    assert listed["apiVersion"] == "batch/v1"
    assert listed["items"] == []
    assert int(listed["metadata"]["resourceVersion"]) > 0


def test_label_and_field_selectors(upstream: ClusterClient) -> None:
    for name, tier in [("sel-a", "front"), ("sel-b", "back"), ("sel-c", "")]:
        labels = {"tier": tier} if tier else {}
        upstream.post(CONFIGMAPS, _config_map(name, metadata={"name": name, "labels": labels}))

    def names(**params: str) -> list[str]:
        items = upstream.get("/api/v1/configmaps", params=params).json()["items"]
        return [
            item["metadata"]["name"] for item in items if item["metadata"]["name"][:4] == "sel-"
        ]

    assert names(labelSelector="tier=front") == ["sel-a"]
    assert names(labelSelector="tier!=front") == ["sel-b", "sel-c"]
    assert names(labelSelector="tier in (front,back)") == ["sel-a", "sel-b"]
    assert names(labelSelector="tier notin (front)") == ["sel-b", "sel-c"]
    assert names(labelSelector="tier") == ["sel-a", "sel-b"]
    assert names(labelSelector="!tier") == ["sel-c"]
    assert names(fieldSelector="metadata.name=sel-b") == ["sel-b"]
    assert names(fieldSelector="metadata.namespace=default,metadata.name!=sel-a") == [
        "sel-b",
        "sel-c",
    ]
    _status(upstream.get(CONFIGMAPS, params={"fieldSelector": "spec.nodeName=x"}), 400)
    pods = "/api/v1/namespaces/default/pods"
    for name, node in [("pod-a", "node-1"), ("pod-b", "node-2")]:
        pod = {
            "metadata": {"name": name},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "i"}]},
        }
        assert upstream.post(pods, pod).status_code == 201
    on_node = upstream.get(pods, params={"fieldSelector": "spec.nodeName=node-2"}).json()
    assert [item["metadata"]["name"] for item in on_node["items"]] == ["pod-b"]
    _status(upstream.get(CONFIGMAPS, params={"labelSelector": "a in (b"}), 400)


def test_a_set_selector_of_a_thousand_target_keys_is_listed_and_watched(
    upstream: ClusterClient,
) -> None:
    """A pooled syncer selects its targets' SyncStatus objects with `key in (k1,...)`: a request
    line of ~40 KB for 1000 keys, over aiohttp's default 8190 bytes. kube-apiserver takes a
    request head of up to 1 MiB (`MaxHeaderBytes: 1 << 20` in SecureServingInfo.Serve,
    k8s.io/apiserver/pkg/server/secure_serving.go)."""
    keys = [sync_target_key("upstream", f"pool-{index}") for index in range(1000)]
    for name, key in [("long-a", keys[0]), ("long-b", keys[-1]), ("long-c", "elsewhere")]:
        labels = {"long-sel": key}
        upstream.post(CONFIGMAPS, _config_map(name, metadata={"name": name, "labels": labels}))
    selector = f"long-sel in ({','.join(keys)})"
    assert len(selector) > 8190 * 4
    listed = upstream.get(CONFIGMAPS, params={"labelSelector": selector})
    assert listed.status_code == 200, listed.text[:300]
    assert [item["metadata"]["name"] for item in listed.json()["items"]] == ["long-a", "long-b"]
    params = {"watch": "1", "labelSelector": selector, "timeoutSeconds": "5"}
    with upstream.get(CONFIGMAPS, params=params, stream=True) as response:
        assert response.status_code == 200
        events = _events(response)
        seen = {next(events)["object"]["metadata"]["name"] for _ in range(2)}
        assert seen == {"long-a", "long-b"}


# Watch.


def test_watch_with_a_selector_reports_objects_leaving_it(upstream: ClusterClient) -> None:
    upstream.post(
        CONFIGMAPS, _config_map("mover", metadata={"name": "mover", "labels": {"w": "1"}})
    )
    params = {"watch": "1", "labelSelector": "w=1", "timeoutSeconds": "5"}
    with upstream.get(CONFIGMAPS, params=params, stream=True) as response:
        assert response.status_code == 200
        events = _events(response)
        first = next(events)
        assert (first["type"], first["object"]["metadata"]["name"]) == ("ADDED", "mover")
        upstream.patch(f"{CONFIGMAPS}/mover", {"metadata": {"labels": {"w": "2"}}}, MERGE)
        upstream.patch(f"{CONFIGMAPS}/mover", {"metadata": {"labels": {"w": "1"}}}, MERGE)
        assert [next(events)["type"], next(events)["type"]] == ["DELETED", "ADDED"]


def test_watch_bookmarks_and_initial_events(upstream: ClusterClient) -> None:
    upstream.post(CONFIGMAPS, _config_map("booked"))
    params = {
        "watch": "true",
        "allowWatchBookmarks": "true",
        "sendInitialEvents": "true",
        "resourceVersionMatch": "NotOlderThan",
        "fieldSelector": "metadata.name=booked",
        "timeoutSeconds": "3",
    }
    with upstream.get(CONFIGMAPS, params=params, stream=True) as response:
        events = _events(response)
        assert next(events)["type"] == "ADDED"
        end = next(events)
        assert end["type"] == "BOOKMARK"
        assert end["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
        periodic = next(events)
        assert periodic["type"] == "BOOKMARK"
        assert periodic["object"]["kind"] == "ConfigMap"
        assert set(periodic["object"]["metadata"]) == {"resourceVersion"}
    _status(upstream.get(CONFIGMAPS, params={"watch": "1", "sendInitialEvents": "true"}), 422)


def test_watch_timeout_ends_the_stream(upstream: ClusterClient) -> None:
    response = upstream.get(CONFIGMAPS, params={"watch": "1", "timeoutSeconds": "1"}, stream=True)
    with response:
        events = list(_events(response))
    assert events
    assert {event["type"] for event in events} == {"ADDED"}


def test_wildcard_watch_sees_every_cluster(
    apiserver: BackgroundAPIServer, admin: ClusterClient
) -> None:
    params = {"watch": "1", "timeoutSeconds": "5", "fieldSelector": "metadata.name=everywhere"}
    with admin.get("/clusters/*/api/v1/configmaps", params=params, stream=True) as response:
        for cluster in ("upstream", "target-1"):
            created = admin.post(f"/clusters/{cluster}{CONFIGMAPS}", _config_map("everywhere"))
            assert created.status_code == 201
        events = _events(response)
        seen = {next(events)["object"]["metadata"]["annotations"]["kcp.io/cluster"] for _ in "ab"}
    assert seen == {"upstream", "target-1"}


# Discovery.


def test_discovery_documents(admin: ClusterClient, upstream: ClusterClient) -> None:
    version = admin.get("/version").json()
    assert (version["major"], version["minor"]) == ("1", "32")
    assert version["gitVersion"].startswith("v1.32.")
    groups = upstream.get("/apis").json()
    assert groups["kind"] == "APIGroupList"
    for group in groups["groups"]:
        assert group["preferredVersion"] in group["versions"]
    names = {group["name"] for group in groups["groups"]}
    assert {"apps", "batch", "networking.k8s.io", "coordination.k8s.io", "workload.kcp.io"} <= names
    apps = upstream.get("/apis/apps/v1").json()
    resources = {r["name"]: r for r in apps["resources"]}
    assert "deployments/status" in resources
    assert resources["deployments"]["shortNames"] == ["deploy"]
    assert resources["deployments"]["categories"] == ["all"]
    core = {r["name"] for r in upstream.get("/api/v1").json()["resources"]}
    assert {"pods", "pods/status", "namespaces", "configmaps", "secrets"} <= core
    aggregated = (
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    )
    plain = upstream.get("/apis", headers={"Accept": "application/json, */*"})
    assert plain.json()["kind"] == "APIGroupList"
    for version in ("v2", "v2beta1"):
        accept = aggregated.replace(";v=v2;", f";v={version};")
        answer = upstream.get("/apis", headers={"Accept": accept})
        assert answer.headers["Content-Type"] == (
            f"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"
        )
        listed = answer.json()
        assert (listed["kind"], listed["apiVersion"]) == (
            "APIGroupDiscoveryList",
            f"apidiscovery.k8s.io/{version}",
        )
        found = {item["metadata"]["name"]: item for item in listed["items"]}
        assert set(found) == names
        apps_v1 = found["apps"]["versions"][0]
        deployments = next(r for r in apps_v1["resources"] if r["resource"] == "deployments")
        assert deployments["scope"] == "Namespaced"
        assert deployments["subresources"][1] == {
            "subresource": "scale",
            "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
            "verbs": ["get", "patch", "update"],
        }
    core_list = upstream.get("/api", headers={"Accept": aggregated}).json()
    assert [item["metadata"]["name"] for item in core_list["items"]] == [""]
    assert "nodes" in {r["resource"] for r in core_list["items"][0]["versions"][0]["resources"]}
    assert admin.get("/apis/workload.kcp.io").json()["kind"] == "APIGroup"
    body = _status(admin.get("/api/v1/namespaces"), 404)
    assert "/clusters/" in body["message"]


# TokenReview.


def test_token_review(apiserver: BackgroundAPIServer, upstream: ClusterClient) -> None:
    path = "/apis/authentication.k8s.io/v1/tokenreviews"

    def review(token: str) -> dict[str, Any]:
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token},
        }
        response = upstream.post(path, body)
        assert response.status_code == 201, response.text
        status: dict[str, Any] = response.json()["status"]
        assert token not in response.text
        return status

    own = review(token_of(apiserver.kubeconfigs["upstream"]))
    assert own["authenticated"] is True
    assert own["user"]["username"] == "system:cluster:upstream"
    assert own["user"]["extra"] == {"kcp.io/cluster": ["upstream"]}
    admin = review(token_of(apiserver.admin_kubeconfig))
    assert admin["authenticated"] is True
    assert admin["user"]["username"] == "system:admin"
    other = review(token_of(apiserver.kubeconfigs["target-1"]))
    assert other["authenticated"] is False
    assert other["error"]
    assert review("garbage")["authenticated"] is False
    _status(upstream.post(path, {"spec": {}}), 422)


def _review(client: ClusterClient, path: str, token: str) -> dict[str, Any]:
    body = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "spec": {"token": token},
    }
    response = client.post(path, body)
    assert response.status_code == 201, response.text
    assert token not in response.text
    status: dict[str, Any] = response.json()["status"]
    return status


def test_token_review_by_the_admin_names_the_tokens_cluster(
    apiserver: BackgroundAPIServer, admin: ClusterClient, upstream: ClusterClient
) -> None:
    """What the hub does: its admin token asks about a caller's token."""
    reviews = "/apis/authentication.k8s.io/v1/tokenreviews"
    upstream_token = token_of(apiserver.kubeconfigs["upstream"])
    target_token = token_of(apiserver.kubeconfigs["target-1"])
    in_upstream = _review(admin, f"/clusters/upstream{reviews}", upstream_token)
    assert in_upstream["authenticated"] is True
    assert in_upstream["user"]["extra"] == {"kcp.io/cluster": ["upstream"]}
    assert _review(admin, f"/clusters/upstream{reviews}", target_token)["authenticated"] is False
    for token, cluster in [(upstream_token, "upstream"), (target_token, "target-1")]:
        anywhere = _review(admin, reviews, token)
        assert anywhere["authenticated"] is True
        assert anywhere["user"]["username"] == f"system:cluster:{cluster}"
        assert anywhere["user"]["extra"] == {"kcp.io/cluster": [cluster]}
    itself = _review(admin, reviews, token_of(apiserver.admin_kubeconfig))
    assert (itself["authenticated"], itself["user"]["extra"]) == (True, {})
    unknown = _review(admin, reviews, "garbage")
    assert unknown == {
        "authenticated": False,
        "error": "the token is not valid for any logical cluster",
    }
    as_cluster = ClusterClient(apiserver.url, upstream_token, str(apiserver.ca_file))
    _status(as_cluster.post(reviews, {"spec": {"token": target_token}}), 403, "Forbidden")
    _status(admin.post(f"/clusters/*{reviews}", {"spec": {"token": target_token}}), 405)


# Clusters added at run time.


def test_add_cluster_at_run_time(apiserver: BackgroundAPIServer, admin: ClusterClient) -> None:
    path = apiserver.add_cluster("root:org:late")
    assert path == apiserver.kubeconfigs["root:org:late"]
    assert apiserver.ready_payload()["kubeconfigs"]["root:org:late"] == str(path)
    late = ClusterClient(apiserver.url, token_of(path), str(apiserver.ca_file))
    accounts = late.get("/clusters/root:org:late/api/v1/serviceaccounts").json()["items"]
    assert len(accounts) == 3
    assert token_of(apiserver.admin_kubeconfig, "root:org:late") == token_of(
        apiserver.admin_kubeconfig
    )
    _status(late.get("/clusters/upstream/api/v1/namespaces"), 403)
    with pytest.raises(ValueError, match="invalid logical cluster name"):
        apiserver.add_cluster("Bad/Name")
