"""One object, two versions: core and ``events.k8s.io/v1`` Events, ``autoscaling/v2`` and
``v1`` HorizontalPodAutoscalers, read and written through either, watched through either."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config

from pytest_syncer.apiserver import BackgroundAPIServer
from tests.integration.apiserver.clients import ClusterClient
from tests.integration.apiserver.kubectl_runner import Kubectl, find_kubectl
from tests.support.tokens import token_of

CORE_EVENTS = "/api/v1/namespaces/default/events"
EVENTS = "/apis/events.k8s.io/v1/namespaces/default/events"
HPA_V1 = "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers"
HPA_V2 = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundAPIServer]:
    directory = tmp_path_factory.mktemp("conversion")
    with BackgroundAPIServer(["upstream"], directory / "kubeconfigs") as server:
        yield server


@pytest.fixture(scope="module")
def http(apiserver: BackgroundAPIServer) -> ClusterClient:
    return ClusterClient(
        f"{apiserver.url}/clusters/upstream",
        token_of(apiserver.kubeconfigs["upstream"]),
        str(apiserver.ca_file),
    )


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    document: dict[str, Any] = response.json()
    return document


def test_a_core_event_is_an_events_k8s_io_event(http: ClusterClient) -> None:
    core = {
        "metadata": {"name": "old-style"},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
        "reason": "Pulled",
        "message": "image pulled",
        "type": "Normal",
        "count": 3,
        "source": {"component": "kubelet"},
        "reportingComponent": "kubelet",
    }
    _ok(http.post(CORE_EVENTS, core), 201)
    seen = _ok(http.get(f"{EVENTS}/old-style"))
    assert (seen["apiVersion"], seen["kind"]) == ("events.k8s.io/v1", "Event")
    assert seen["note"] == "image pulled"
    assert seen["regarding"] == core["involvedObject"]
    assert (seen["deprecatedCount"], seen["deprecatedSource"]) == (3, {"component": "kubelet"})
    assert seen["reportingController"] == "kubelet"
    assert "message" not in seen
    listed = _ok(http.get(EVENTS))
    assert listed["kind"] == "EventList"
    assert {item["note"] for item in listed["items"]} >= {"image pulled"}


def test_an_events_k8s_io_event_is_a_core_event(http: ClusterClient) -> None:
    new = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "new-style"},
        "eventTime": "2026-01-01T00:00:00.000000Z",
        "reportingController": "example.com/syncer",
        "reportingInstance": "syncer-1",
        "action": "Sync",
        "reason": "Synced",
        "regarding": {"kind": "Deployment", "name": "web", "namespace": "default"},
        "note": "synced to 3 targets",
        "type": "Normal",
    }
    created = _ok(http.post(EVENTS, new), 201)
    assert created["note"] == "synced to 3 targets"
    core = _ok(http.get(f"{CORE_EVENTS}/new-style"))
    assert (core["apiVersion"], core["message"]) == ("v1", "synced to 3 targets")
    assert core["involvedObject"]["name"] == "web"
    assert core["reportingComponent"] == "example.com/syncer"
    series = {"series": {"count": 2, "lastObservedTime": "2026-01-01T00:01:00.000000Z"}}
    patched = _ok(http.patch(f"{EVENTS}/new-style", series, STRATEGIC))
    assert patched["series"]["count"] == 2
    assert _ok(http.get(f"{CORE_EVENTS}/new-style"))["series"]["count"] == 2
    noted = _ok(http.patch(f"{EVENTS}/new-style", {"note": "synced to 4 targets"}, MERGE))
    assert noted["note"] == "synced to 4 targets"
    # Events' registry does not return the deleted object: the answer is a Success Status.
    deleted = _ok(http.delete(f"{EVENTS}/new-style"))
    assert (deleted["kind"], deleted["status"]) == ("Status", "Success")
    assert deleted["details"]["name"] == "new-style"
    assert http.get(f"{CORE_EVENTS}/new-style").status_code == 404


def test_watch_through_events_k8s_io_sees_core_writes(http: ClusterClient) -> None:
    revision = _ok(http.get(EVENTS))["metadata"]["resourceVersion"]
    core = {
        "metadata": {"name": "watched"},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
        "reason": "Killing",
        "message": "stopping",
    }
    _ok(http.post(CORE_EVENTS, core), 201)
    params = {"watch": "1", "resourceVersion": revision, "timeoutSeconds": "1"}
    response = http.get(EVENTS, params=params, stream=True)
    lines = [json.loads(line) for line in response.iter_lines() if line]
    added = [e["object"] for e in lines if e["type"] == "ADDED"]
    assert added[0]["apiVersion"] == "events.k8s.io/v1"
    assert added[0]["note"] == "stopping"


def test_hpa_in_two_versions(http: ClusterClient) -> None:
    v1 = {
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 5,
            "targetCPUUtilizationPercentage": 70,
        },
    }
    created = _ok(http.post(HPA_V1, v1), 201)
    assert (created["apiVersion"], created["spec"]["targetCPUUtilizationPercentage"]) == (
        "autoscaling/v1",
        70,
    )
    v2 = _ok(http.get(f"{HPA_V2}/web"))
    assert v2["spec"]["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 70},
            },
        }
    ]
    status = {"status": {"currentReplicas": 2, "desiredReplicas": 3, "currentMetrics": [
        {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 55}}}
    ]}}  # fmt: skip
    _ok(http.patch(f"{HPA_V2}/web/status", status, MERGE))
    seen = _ok(http.get(f"{HPA_V1}/web"))
    assert seen["status"]["currentCPUUtilizationPercentage"] == 55
    assert seen["status"]["desiredReplicas"] == 3
    raised = _ok(http.patch(f"{HPA_V1}/web", {"spec": {"maxReplicas": 9}}, MERGE))
    assert raised["spec"]["maxReplicas"] == 9
    assert _ok(http.get(f"{HPA_V2}/web"))["spec"]["maxReplicas"] == 9


def test_official_client_and_kubectl_read_both_versions(
    apiserver: BackgroundAPIServer, http: ClusterClient, tmp_path_factory: pytest.TempPathFactory
) -> None:
    api = config.new_client_from_config(config_file=str(apiserver.kubeconfigs["upstream"]))
    with api:
        event = client.EventsV1Event(
            metadata=client.V1ObjectMeta(name="typed"),
            event_time=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
            reporting_controller="tests",
            reporting_instance="tests-1",
            action="Check",
            reason="Checked",
            note="from the typed client",
            type="Normal",
            regarding=client.V1ObjectReference(kind="Pod", name="p", namespace="default"),
        )
        client.EventsV1Api(api).create_namespaced_event("default", event)
        core = client.CoreV1Api(api).read_namespaced_event("typed", "default")
        assert core.message == "from the typed client"
        target = client.V1CrossVersionObjectReference(
            api_version="apps/v1", kind="Deployment", name="typed"
        )
        spec = client.V1HorizontalPodAutoscalerSpec(
            scale_target_ref=target, max_replicas=4, target_cpu_utilization_percentage=60
        )
        client.AutoscalingV1Api(api).create_namespaced_horizontal_pod_autoscaler(
            "default",
            client.V1HorizontalPodAutoscaler(metadata=client.V1ObjectMeta(name="typed"), spec=spec),
        )
        v2 = client.AutoscalingV2Api(api).read_namespaced_horizontal_pod_autoscaler(
            "typed", "default"
        )
        assert v2.spec is not None
        assert v2.spec.metrics is not None
        resource = v2.spec.metrics[0].resource
        assert resource is not None
        assert resource.target.average_utilization == 60
    binary = find_kubectl("1.32")
    if binary is None:
        pytest.skip("kubectl.1.32 is not installed beside the image's kubectl")
    kubectl = Kubectl(
        binary, apiserver.kubeconfigs["upstream"], tmp_path_factory.mktemp("conv"), "default"
    )
    shown = json.loads(kubectl.run("get", "events.v1.events.k8s.io", "typed", "-o", "json").stdout)
    assert shown["note"] == "from the typed client"
    rows = kubectl.run("get", "events.events.k8s.io").stdout
    assert "from the typed client" in rows


APPLY = "application/apply-patch+yaml"


def _managers(obj: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (entry["manager"], entry["operation"], entry["apiVersion"])
        for entry in obj["metadata"].get("managedFields") or []
    ]


def test_server_side_apply_through_events_k8s_io(http: ClusterClient) -> None:
    """Apply to the converted version: the configuration is applied to the events.k8s.io view
    of the stored core Event and stored back; ownership is recorded with the request's
    apiVersion, as kube-apiserver's field manager records it (``managedFields[].apiVersion``:
    "the API version of the resource this field set applies to",
    ``k8s.io/apimachinery/pkg/apis/meta/v1/types.go`` ``ManagedFieldsEntry``)."""
    config = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "applied"},
        "eventTime": "2026-01-01T00:00:00.000000Z",
        "reportingController": "example.com/syncer",
        "reportingInstance": "syncer-1",
        "action": "Sync",
        "reason": "Synced",
        "regarding": {"kind": "Deployment", "name": "web", "namespace": "default"},
        "note": "first",
        "type": "Normal",
    }
    params = {"fieldManager": "syncer"}
    created = http.patch(f"{EVENTS}/applied", config, APPLY, params=params)
    assert created.status_code == 201, created.text
    assert created.json()["note"] == "first"
    assert _managers(created.json()) == [("syncer", "Apply", "events.k8s.io/v1")]
    core = _ok(http.get(f"{CORE_EVENTS}/applied"))
    assert (core["message"], core["involvedObject"]["name"]) == ("first", "web")

    again = _ok(http.patch(f"{EVENTS}/applied", {**config, "note": "second"}, APPLY, params=params))
    assert again["note"] == "second"
    assert _ok(http.get(f"{CORE_EVENTS}/applied"))["message"] == "second"
    same = _ok(http.patch(f"{EVENTS}/applied", {**config, "note": "second"}, APPLY, params=params))
    assert same["metadata"]["resourceVersion"] == again["metadata"]["resourceVersion"]

    rival = {**config, "note": "rival"}
    conflict = http.patch(f"{EVENTS}/applied", rival, APPLY, params={"fieldManager": "other"})
    assert conflict.status_code == 409, conflict.text
    assert conflict.json()["details"]["causes"][0]["field"] == ".note"
    forced = http.patch(
        f"{EVENTS}/applied", rival, APPLY, params={"fieldManager": "other", "force": "true"}
    )
    assert _ok(forced)["note"] == "rival"
    assert _ok(http.get(f"{CORE_EVENTS}/applied"))["message"] == "rival"


def test_server_side_apply_through_autoscaling_v1(http: ClusterClient) -> None:
    config: dict[str, Any] = {
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "applied"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "maxReplicas": 4,
            "targetCPUUtilizationPercentage": 50,
        },
    }
    params = {"fieldManager": "scaler"}
    created = http.patch(f"{HPA_V1}/applied", config, APPLY, params=params)
    assert created.status_code == 201, created.text
    assert _managers(created.json()) == [("scaler", "Apply", "autoscaling/v1")]
    stored = _ok(http.get(f"{HPA_V2}/applied"))
    target = stored["spec"]["metrics"][0]["resource"]["target"]
    assert target == {"type": "Utilization", "averageUtilization": 50}
    config["spec"]["maxReplicas"] = 6
    _ok(http.patch(f"{HPA_V1}/applied", config, APPLY, params=params))
    assert _ok(http.get(f"{HPA_V2}/applied"))["spec"]["maxReplicas"] == 6


def test_kubectl_apply_server_side_to_events_k8s_io(
    apiserver: BackgroundAPIServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    binary = find_kubectl("1.33")
    if binary is None:
        pytest.skip("kubectl.1.33 is not installed beside the image's kubectl")
    kubectl = Kubectl(
        binary, apiserver.kubeconfigs["upstream"], tmp_path_factory.mktemp("ssa"), "default"
    )
    manifest = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "by-kubectl"},
        "eventTime": "2026-01-01T00:00:00.000000Z",
        "reportingController": "example.com/kubectl",
        "reportingInstance": "k-1",
        "action": "Apply",
        "reason": "Applied",
        "regarding": {"kind": "Pod", "name": "p", "namespace": "default"},
        "note": "applied by kubectl",
        "type": "Normal",
    }
    text = json.dumps(manifest)
    first = kubectl.run("apply", "--server-side", "-f", "-", stdin=text)
    assert "serverside-applied" in first.stdout
    shown = json.loads(
        kubectl.run(
            "get", "events.v1.events.k8s.io", "by-kubectl", "-o", "json", "--show-managed-fields"
        ).stdout
    )
    assert _managers(shown) == [("kubectl", "Apply", "events.k8s.io/v1")]
    assert shown["note"] == "applied by kubectl"
    second = kubectl.run("apply", "--server-side", "-f", "-", stdin=text)
    assert "serverside-applied" in second.stdout


def test_events_k8s_io_field_selectors(
    http: ClusterClient, apiserver: BackgroundAPIServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """events.k8s.io/v1's field labels are its own (``AddFieldLabelConversionsForEvent``,
    ``pkg/apis/events/v1/conversion.go``): ``regarding.*`` and ``reportingController`` select
    the core Event's ``involvedObject.*`` and ``reportingComponent``, ``reason``, ``type`` and
    ``source`` (``source.component``, else ``reportingComponent``:
    ``pkg/registry/core/event/strategy.go`` ``ToSelectableFields``) are shared, and any other
    label, the core spellings included, is the server's 400 "field label not supported"."""
    for name, api_version, kind, reason, component in [
        ("sel-web", "apps/v1", "Deployment", "SelScaled", "sel-controller"),
        ("sel-pod", "v1", "Pod", "SelPulled", ""),
    ]:
        core: dict[str, Any] = {
            "metadata": {"name": name},
            "involvedObject": {
                "apiVersion": api_version,
                "kind": kind,
                "name": "selected",
                "namespace": "default",
            },
            "reason": reason,
            "message": "m",
            "type": "Normal",
        }
        if component:
            core["reportingComponent"] = component
        else:
            core["source"] = {"component": "sel-kubelet"}
        _ok(http.post(CORE_EVENTS, core), 201)

    def selected(selector: str, path: str = EVENTS) -> list[str]:
        listed = _ok(http.get(path, params={"fieldSelector": selector}))
        return sorted(item["metadata"]["name"] for item in listed["items"])

    assert selected("regarding.name=selected") == ["sel-pod", "sel-web"]
    assert selected("regarding.kind=Deployment,regarding.name=selected") == ["sel-web"]
    assert selected("regarding.kind!=Deployment,regarding.name=selected") == ["sel-pod"]
    assert selected("reportingController=sel-controller") == ["sel-web"]
    assert selected("reason=SelPulled") == ["sel-pod"]
    assert selected("source=sel-kubelet") == ["sel-pod"]
    assert selected("source=sel-controller") == ["sel-web"]
    assert selected("source=sel-kubelet", CORE_EVENTS) == ["sel-pod"], "the same derived field"
    assert "sel-web" in selected("type=Normal,metadata.namespace=default")
    for label in ("involvedObject.name", "reportingComponent", "note"):
        refused = http.get(EVENTS, params={"fieldSelector": f"{label}=web"})
        assert refused.status_code == 400, refused.text
        assert refused.json()["message"] == f"field label not supported: {label}"
    core_refused = http.get(CORE_EVENTS, params={"fieldSelector": "regarding.name=web"})
    assert core_refused.json()["message"] == "field label not supported: regarding.name"

    pods = "regarding.kind=Pod,regarding.name=selected"
    params = {"watch": "1", "fieldSelector": pods, "timeoutSeconds": "1"}
    with http.get(EVENTS, params=params, stream=True) as response:
        watched = [json.loads(line) for line in response.iter_lines() if line]
    assert [event["object"]["metadata"]["name"] for event in watched] == ["sel-pod"]

    binary = find_kubectl("1.33")
    if binary is None:
        pytest.skip("kubectl.1.33 is not installed beside the image's kubectl")
    kubectl = Kubectl(
        binary, apiserver.kubeconfigs["upstream"], tmp_path_factory.mktemp("sel"), "default"
    )
    deployments = "--field-selector=regarding.kind=Deployment,regarding.name=selected"
    names = kubectl.run("get", "events.events.k8s.io", deployments, "-o", "name")
    assert names.stdout.split() == ["event.events.k8s.io/sel-web"]
    shown = kubectl.run("events", "--for=pod/selected")  # involvedObject.* on core v1
    assert "SelPulled" in shown.stdout
    assert "SelScaled" not in shown.stdout
