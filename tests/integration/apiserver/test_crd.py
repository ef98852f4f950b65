"""A CustomResourceDefinition round trip with the official DynamicClient, on both stores."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import config, dynamic, watch
from kubernetes.client.rest import ApiException

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.data import shipped
from pytest_syncer.harness.waiting import wait_until
from tests.integration.apiserver.stores import client_for, served, status_of

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
WIDGET_SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["size"],
            "properties": {
                "size": {"type": "integer", "minimum": 1, "maximum": 10},
                "replicas": {"type": "integer", "minimum": 0, "maximum": 20},
                "color": {"type": "string", "enum": ["red", "blue"]},
                "labelsLike": {"type": "object", "additionalProperties": {"type": "string"}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
        },
        "status": {
            "type": "object",
            "properties": {
                "ready": {"type": "boolean"},
                "replicas": {"type": "integer"},
                "selector": {"type": "string"},
            },
        },
    },
}


def widget_crd(scope: str = "Namespaced") -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": scope,
            "names": {
                "plural": "widgets",
                "singular": "widget",
                "kind": "Widget",
                "shortNames": ["wd"],
                "categories": ["all"],
            },
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": WIDGET_SCHEMA},
                    "subresources": {
                        "status": {},
                        "scale": {
                            "specReplicasPath": ".spec.replicas",
                            "statusReplicasPath": ".status.replicas",
                            "labelSelectorPath": ".status.selector",
                        },
                    },
                }
            ],
        },
    }


def _widget(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"size": 3, **spec},
    }


def _dynamic(server: BackgroundAPIServer, cluster: str = "upstream") -> dynamic.DynamicClient:
    api_client = config.new_client_from_config(config_file=str(server.kubeconfigs[cluster]))
    return dynamic.DynamicClient(api_client)


def _established(crd: Any) -> bool:
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)


def test_crd_round_trip_with_the_dynamic_client(server: BackgroundAPIServer) -> None:
    client = _dynamic(server)
    crds = client.resources.get(
        api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition"
    )
    crds.create(body=widget_crd())
    crd = wait_until(
        lambda: crds.get(name="widgets.example.com").to_dict(),
        _established,
        what="the CRD to be Established",
    )
    assert crd["status"]["acceptedNames"]["kind"] == "Widget"
    assert crd["spec"]["names"]["listKind"] == "WidgetList"

    client = _dynamic(server)  # a fresh client discovers the new group
    widgets = client.resources.get(api_version="example.com/v1", kind="Widget")
    assert widgets.namespaced
    assert widgets.short_names == ["wd"]
    created = widgets.create(
        body=_widget("w1", color="red", unknown="dropped", free={"any": {"thing": 1}}),
        namespace="default",
    ).to_dict()
    assert created["spec"] == {"size": 3, "color": "red", "free": {"any": {"thing": 1}}}
    assert created["metadata"]["generation"] == 1

    events: list[tuple[str, str]] = []
    watching = threading.Event()

    def watch_widgets() -> None:
        stream = watch.Watch()
        watching.set()
        for event in widgets.watch(namespace="default", timeout=5, watcher=stream):
            events.append((event["type"], event["object"].metadata.name))
            if event["type"] == "DELETED":
                stream.stop()

    watcher = threading.Thread(target=watch_widgets)
    watcher.start()
    watching.wait()
    fetched = widgets.get(name="w1", namespace="default").to_dict()
    fetched["spec"]["size"] = 4
    fetched["status"] = {"ready": True}
    replaced = widgets.replace(body=fetched, namespace="default").to_dict()
    assert replaced["metadata"]["generation"] == 2
    assert "status" not in replaced, "status goes through /status only"
    status_body = {**replaced, "status": {"ready": True}}
    status_body["spec"] = {"size": 9}
    with_status = widgets.status.replace(body=status_body, namespace="default").to_dict()
    assert with_status["status"] == {"ready": True}
    assert with_status["spec"]["size"] == 4
    assert with_status["metadata"]["generation"] == 2
    assert [item.metadata.name for item in widgets.get(namespace="default").items] == ["w1"]
    widgets.delete(name="w1", namespace="default")
    watcher.join(10)
    assert events[0] == ("ADDED", "w1")
    assert events[-1] == ("DELETED", "w1")

    with pytest.raises(ApiException) as refused:
        widgets.create(body=_widget("bad", size="big", color="green"), namespace="default")
    assert refused.value.status == 422
    body = yaml.safe_load(str(refused.value.body))
    fields = sorted(cause["field"] for cause in body["details"]["causes"])
    assert fields == ["spec.color", "spec.size"]
    assert body["message"].startswith('Widget.example.com "bad" is invalid: ')


def test_discovery_serves_custom_types_in_their_cluster_only(server: BackgroundAPIServer) -> None:
    upstream, other = client_for(server), client_for(server, "other")
    gadget = widget_crd()
    gadget["metadata"]["name"] = "gadgets.example.org"
    gadget["spec"]["group"] = "example.org"
    gadget["spec"]["names"] = {"plural": "gadgets", "kind": "Gadget", "shortNames": ["gd"]}
    assert upstream.post(CRDS, gadget).status_code == 201
    groups = [group["name"] for group in upstream.get("/apis").json()["groups"]]
    assert "example.org" in groups
    resources = upstream.get("/apis/example.org/v1").json()["resources"]
    assert [entry["name"] for entry in resources] == ["gadgets", "gadgets/status", "gadgets/scale"]
    assert resources[0]["shortNames"] == ["gd"]
    assert resources[0]["singularName"] == "gadget"
    other_groups = [group["name"] for group in other.get("/apis").json()["groups"]]
    assert "example.org" not in other_groups
    status_of(other.get("/apis/example.org/v1/namespaces/default/gadgets"), 404)
    root = client_for(server)
    root.base_url = server.url
    assert "example.org" not in [g["name"] for g in root.get("/apis").json()["groups"]]


def test_invalid_and_clashing_crds_are_refused(server: BackgroundAPIServer) -> None:
    client = client_for(server)
    misnamed = widget_crd()
    misnamed["metadata"]["name"] = "wrong.example.com"
    body = status_of(client.post(CRDS, misnamed), 422)
    assert [cause["field"] for cause in body["details"]["causes"]] == ["metadata.name"]
    clash = widget_crd()
    clash["metadata"]["name"] = "ingresses.networking.k8s.io"
    clash["spec"]["group"] = "networking.k8s.io"
    clash["spec"]["names"] = {"plural": "ingresses", "kind": "Ingress"}
    refused = status_of(client.post(CRDS, clash), 409)
    assert "built into this server" in refused["message"]


def test_shipped_crds_are_accepted_beside_the_built_in_types(
    server: BackgroundAPIServer,
) -> None:
    client = client_for(server)
    directory = shipped("crds")
    documents = [
        document
        for path in sorted(directory.glob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
        if document and document.get("kind") == "CustomResourceDefinition"
    ]
    assert {d["spec"]["names"]["kind"] for d in documents} >= {"SyncTarget", "SyncStatus"}
    synctargets = "/apis/workload.kcp.io/v1alpha1/synctargets"
    assert client.post(synctargets, {"metadata": {"name": "kept"}}).status_code == 201
    for document in documents:
        created = client.post(CRDS, document)
        assert created.status_code == 201, created.text
        assert _established(created.json())
    assert client.get(f"{synctargets}/kept").status_code == 200
    for document in documents:
        assert client.delete(f"{CRDS}/{document['metadata']['name']}").status_code == 200
    assert client.get(f"{synctargets}/kept").status_code == 200, "built-in objects stay"


def test_deleting_a_crd_deletes_its_objects_and_ends_watches(
    server: BackgroundAPIServer,
) -> None:
    client = client_for(server)
    crd = widget_crd("Cluster")
    crd["metadata"]["name"] = "sprockets.example.net"
    crd["spec"]["group"] = "example.net"
    crd["spec"]["names"] = {"plural": "sprockets", "kind": "Sprocket"}
    assert client.post(CRDS, crd).status_code == 201
    sprockets = "/apis/example.net/v1/sprockets"
    body = {"apiVersion": "example.net/v1", "kind": "Sprocket", "spec": {"size": 1}}
    for name in ("s1", "s2"):
        created = client.post(sprockets, {**body, "metadata": {"name": name}})
        assert created.status_code == 201, created.text
    params = {"watch": "1", "resourceVersion": "0", "timeoutSeconds": "30"}
    with client.get(sprockets, params=params, stream=True) as response:
        lines = response.iter_lines()
        assert [next(lines) for _ in range(2)]
        assert client.delete(f"{CRDS}/sprockets.example.net").status_code == 200
        remaining = [yaml.safe_load(line)["type"] for line in lines]
    assert remaining == ["DELETED", "DELETED"], "the stream ends after the objects go"
    status_of(client.get(sprockets), 404)
    assert client.post(CRDS, crd).status_code == 201
    assert client.get(sprockets).json()["items"] == [], "a recreated CRD starts empty"


@pytest.mark.parametrize("store", ["sqlite"])
def test_a_crd_survives_a_restart(store: str, tmp_path: Path) -> None:
    with served(store, tmp_path) as first:
        client = client_for(first)
        assert client.post(CRDS, widget_crd()).status_code == 201
        widgets = "/apis/example.com/v1/namespaces/default/widgets"
        assert client.post(widgets, _widget("kept")).status_code == 201
        port = first.server.port
    with served(store, tmp_path, port=port) as second:
        client = client_for(second)
        assert client.get(f"{widgets}/kept").json()["spec"] == {"size": 3}
        assert "example.com" in [g["name"] for g in client.get("/apis").json()["groups"]]


def test_the_scale_subresource_follows_the_crd_paths(server: BackgroundAPIServer) -> None:
    client = client_for(server)
    crd = widget_crd()
    crd["metadata"]["name"] = "scalers.example.com"
    crd["spec"]["names"] = {"plural": "scalers", "kind": "Scaler"}
    assert client.post(CRDS, crd).status_code == 201
    scalers = "/apis/example.com/v1/namespaces/default/scalers"
    body = {"apiVersion": "example.com/v1", "kind": "Scaler", "metadata": {"name": "s"}}
    assert client.post(scalers, {**body, "spec": {"size": 1, "replicas": 2}}).status_code == 201
    status = {**body, "status": {"replicas": 2, "selector": "app=s"}}
    assert client.put(f"{scalers}/s/status", status).status_code == 200
    scale = client.get(f"{scalers}/s/scale").json()
    assert scale["kind"] == "Scale"
    assert scale["spec"] == {"replicas": 2}
    assert scale["status"] == {"replicas": 2, "selector": "app=s"}
    patched = client.patch(
        f"{scalers}/s/scale", {"spec": {"replicas": 5}}, "application/merge-patch+json"
    )
    assert patched.json()["spec"] == {"replicas": 5}
    assert client.get(f"{scalers}/s").json()["spec"] == {"size": 1, "replicas": 5}
    too_many = client.patch(
        f"{scalers}/s/scale", {"spec": {"replicas": 50}}, "application/merge-patch+json"
    )
    assert "spec.replicas" in status_of(too_many, 422)["message"], "the schema still applies"
    resources = client.get("/apis/example.com/v1").json()["resources"]
    entry = next(item for item in resources if item["name"] == "scalers/scale")
    assert (entry["group"], entry["version"], entry["kind"]) == ("autoscaling", "v1", "Scale")


def test_a_deleted_crd_terminates_until_its_objects_are_gone(server: BackgroundAPIServer) -> None:
    client = client_for(server)
    crd = widget_crd()
    crd["metadata"]["name"] = "anchors.example.com"
    crd["spec"]["names"] = {"plural": "anchors", "kind": "Anchor"}
    created = client.post(CRDS, crd).json()
    assert "customresourcecleanup.apiextensions.k8s.io" in created["metadata"]["finalizers"]
    anchors = "/apis/example.com/v1/namespaces/default/anchors"
    held = {
        "apiVersion": "example.com/v1",
        "kind": "Anchor",
        "metadata": {"name": "held", "finalizers": ["example.com/hold"]},
        "spec": {"size": 1},
    }
    assert client.post(anchors, held).status_code == 201
    assert client.delete(f"{CRDS}/anchors.example.com").status_code == 200
    terminating = wait_until(
        lambda: client.get(f"{CRDS}/anchors.example.com").json(),
        lambda found: any(c["type"] == "Terminating" for c in found["status"]["conditions"]),
        what="the CRD to report Terminating",
    )
    assert terminating["metadata"]["deletionTimestamp"]
    assert client.get(f"{anchors}/held").json()["metadata"]["deletionTimestamp"]
    late = {**held, "metadata": {"name": "late"}}
    refused = status_of(client.post(anchors, late), 405)
    assert refused["message"] == (
        "create not allowed while custom resource definition is terminating"
    )
    client.patch(
        f"{anchors}/held", {"metadata": {"finalizers": None}}, "application/merge-patch+json"
    )
    wait_until(
        lambda: client.get(f"{CRDS}/anchors.example.com").status_code,
        lambda code: code == 404,
        what="the CRD to go once its last object is gone",
    )
    status_of(client.get(anchors), 404)
