"""Metadata-only responses (``as=PartialObjectMetadata[List]``) and YAML responses over real HTTP.

Client-go's metadata informers list with ``as=PartialObjectMetadataList`` and get and watch with
``as=PartialObjectMetadata``, protobuf first; the Accept headers below are theirs.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
import yaml
from kubernetes import client, config, watch

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.apiserver.http.protobuf.envelope import (
    MEDIA_TYPE,
    WATCH_MEDIA_TYPE,
    decode_object,
    read_watch_frames,
)
from pytest_syncer.harness.waiting import wait_until
from tests.integration.apiserver.clients import ClusterClient
from tests.integration.apiserver.test_crd import widget_crd
from tests.support.tokens import token_of

CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
WIDGETS = "/apis/example.com/v1/namespaces/default/widgets"
META = "g=meta.k8s.io;v=v1"


def metadata_accept(kind: str) -> str:
    """What client-go's metadata client sends."""
    return f"{MEDIA_TYPE};as={kind};{META},application/json;as={kind};{META},application/json"


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundAPIServer]:
    directory = tmp_path_factory.mktemp("metadata-apiserver")
    with BackgroundAPIServer(["upstream"], directory / "kubeconfigs") as server:
        yield server


@pytest.fixture(scope="module")
def upstream(apiserver: BackgroundAPIServer) -> ClusterClient:
    http = ClusterClient(
        f"{apiserver.url}/clusters/upstream",
        token_of(apiserver.kubeconfigs["upstream"]),
        str(apiserver.ca_file),
    )
    for name in ("first", "second"):
        body = {"metadata": {"name": name, "labels": {"app": name}}, "data": {"k": "v"}}
        assert http.post(CONFIGMAPS, body).status_code == 201
    return http


def test_get_and_list_as_metadata_only(upstream: ClusterClient) -> None:
    full = upstream.get(f"{CONFIGMAPS}/first").json()
    json_only = f"application/json;as=PartialObjectMetadata;{META}"
    partial = upstream.get(f"{CONFIGMAPS}/first", headers={"Accept": json_only}).json()
    assert partial == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": full["metadata"],
    }
    answer = upstream.get(
        f"{CONFIGMAPS}/first", headers={"Accept": metadata_accept("PartialObjectMetadata")}
    )
    assert answer.headers["Content-Type"] == MEDIA_TYPE
    assert decode_object(answer.content) == partial
    listed = upstream.get(
        CONFIGMAPS,
        params={"limit": "1"},
        headers={"Accept": metadata_accept("PartialObjectMetadataList")},
    )
    document = decode_object(listed.content)
    assert (document["kind"], document["apiVersion"]) == (
        "PartialObjectMetadataList",
        "meta.k8s.io/v1",
    )
    assert [item["metadata"]["name"] for item in document["items"]] == ["first"]
    assert document["metadata"]["continue"]
    # "kube-root-ca.crt" (every namespace has it) and "second" remain.
    assert document["metadata"]["remainingItemCount"] == 2


def test_a_list_asked_as_an_object_and_back_is_406(upstream: ClusterClient) -> None:
    as_object = upstream.get(
        CONFIGMAPS, headers={"Accept": f"application/json;as=PartialObjectMetadata;{META}"}
    )
    assert (as_object.status_code, as_object.json()["reason"]) == (406, "NotAcceptable")
    as_list = upstream.get(
        f"{CONFIGMAPS}/first",
        headers={"Accept": f"application/json;as=PartialObjectMetadataList;{META}"},
    )
    assert as_list.status_code == 406


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
def test_watch_sends_metadata_only(upstream: ClusterClient, encoding: str) -> None:
    accept = metadata_accept("PartialObjectMetadata")
    if encoding == "json":
        accept = accept.split(",", 1)[1]
    params = {"watch": "1", "timeoutSeconds": "1", "labelSelector": "app=first"}
    answer = upstream.get(CONFIGMAPS, params=params, headers={"Accept": accept})
    if encoding == "protobuf":
        assert answer.headers["Content-Type"] == WATCH_MEDIA_TYPE
        events = list(read_watch_frames(answer.content))
    else:
        assert answer.headers["Content-Type"] == "application/json"
        lines = [orjson.loads(line) for line in answer.content.splitlines()]
        events = [(line["type"], line["object"]) for line in lines]
    ((event_type, obj),) = events
    assert event_type == "ADDED"
    assert obj["metadata"]["name"] == "first"
    assert "data" not in obj
    if encoding == "json":
        assert obj["kind"] == "PartialObjectMetadata"


def test_custom_resources_as_metadata_in_protobuf(upstream: ClusterClient) -> None:
    assert (
        upstream.post(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", widget_crd()
        ).status_code
        == 201
    )
    wait_until(
        lambda: upstream.get(WIDGETS).status_code,
        lambda code: code == 200,
        what="widgets served",
        timeout=10,
    )
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": 1},
    }
    assert upstream.post(WIDGETS, widget).status_code == 201
    listed = upstream.get(WIDGETS, headers={"Accept": metadata_accept("PartialObjectMetadataList")})
    assert listed.headers["Content-Type"] == MEDIA_TYPE
    assert [item["metadata"]["name"] for item in decode_object(listed.content)["items"]] == ["w"]


def test_yaml_responses(upstream: ClusterClient) -> None:
    as_json = upstream.get(f"{CONFIGMAPS}/first").json()
    answer = upstream.get(f"{CONFIGMAPS}/first", headers={"Accept": "application/yaml"})
    assert answer.headers["Content-Type"] == "application/yaml"
    assert yaml.safe_load(answer.text) == as_json
    listed = yaml.safe_load(upstream.get(CONFIGMAPS, headers={"Accept": "application/yaml"}).text)
    assert listed["kind"] == "ConfigMapList"
    params = {"watch": "1", "timeoutSeconds": "1"}
    refused = upstream.get(CONFIGMAPS, params=params, headers={"Accept": "application/yaml"})
    assert refused.status_code == 406  # YAML has no stream framing
    watched = upstream.get(
        CONFIGMAPS, params=params, headers={"Accept": "application/yaml, application/json"}
    )
    assert watched.headers["Content-Type"] == "application/json"


def test_the_official_client_watches_metadata_only(
    apiserver: BackgroundAPIServer, upstream: ClusterClient
) -> None:
    del upstream
    api_client = config.new_client_from_config(config_file=str(apiserver.kubeconfigs["upstream"]))
    with api_client:
        core = client.CoreV1Api(api_client)
        accept = {"Accept": f"application/json;as=PartialObjectMetadata;{META}"}
        stream = watch.Watch().stream(
            core.list_namespaced_config_map,
            "default",
            label_selector="app=second",
            timeout_seconds=1,
            _headers=accept,
        )
        events = list(stream)
    ((event,),) = [events]
    assert event["type"] == "ADDED"
    assert event["raw_object"]["kind"] == "PartialObjectMetadata"
    assert event["object"].metadata.name == "second"
    assert event["object"].data is None
