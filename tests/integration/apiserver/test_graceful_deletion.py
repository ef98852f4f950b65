"""Graceful Pod deletion over real HTTPS, with kubectl and the official client.

The rules are kube-apiserver's (kubernetes/kubernetes): ``pkg/registry/core/pod/strategy.go``
``CheckGracefulDelete`` (the request's ``gracePeriodSeconds``, else the pod's
``spec.terminationGracePeriodSeconds``; 0 for a pod without ``spec.nodeName`` or already
Succeeded/Failed; a negative period is 1), ``staging/src/k8s.io/apiserver/pkg/registry/rest/
delete.go`` ``BeforeDelete`` (``deletionTimestamp`` = now + period, ``generation`` + 1; a later
DELETE may only shorten the period) and ``registry/generic/registry/store.go`` (the marked pod
is stored first, so watchers see a MODIFIED, and removed at once only when its period is 0;
``ShouldDeleteDuringUpdate``: an update removes a finalized object only when its period is 0).
No kubelet runs beside this server, so a scheduled Pod stays until a DELETE with period 0.
"""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config

from pytest_syncer.apiserver import BackgroundAPIServer
from tests.integration.apiserver.clients import ClusterClient
from tests.integration.apiserver.kubectl_runner import Kubectl, kubectl_or_skip

PODS = "/api/v1/namespaces/default/pods"
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


def _pod(name: str, *, node: str | None = "node-1", grace: int | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "nginx"}]}
    if node is not None:
        spec["nodeName"] = node
    if grace is not None:
        spec["terminationGracePeriodSeconds"] = grace
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def _ok(response: Any, code: int = 200) -> dict[str, Any]:
    assert response.status_code == code, response.text
    document: dict[str, Any] = response.json()
    return document


def _seconds_from_now(timestamp: str) -> float:
    moment = datetime.datetime.fromisoformat(timestamp)
    return (moment - datetime.datetime.now(datetime.UTC)).total_seconds()


class Watch:
    """The pod watch events of one name, read in a thread from a raw watch stream."""

    def __init__(self, http: ClusterClient, name: str, revision: str) -> None:
        params = {
            "watch": "1",
            "resourceVersion": revision,
            "fieldSelector": f"metadata.name={name}",
            "timeoutSeconds": "5",
        }
        self._response = http.get(PODS, params=params, stream=True)
        self.events: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self._response.iter_lines():
            if line:
                event = json.loads(line)
                self.events.append(event)
                if event["type"] == "DELETED":
                    break
        self._response.close()

    def until_deleted(self) -> list[dict[str, Any]]:
        self._thread.join(10)
        return self.events


def test_a_scheduled_pod_is_marked_and_stays_until_a_delete_with_period_zero(
    upstream: ClusterClient,
) -> None:
    created = _ok(upstream.post(PODS, _pod("graceful", grace=45)), 201)
    watch = Watch(upstream, "graceful", created["metadata"]["resourceVersion"])

    rehearsed = _ok(upstream.delete(f"{PODS}/graceful", params={"dryRun": "All"}))
    assert rehearsed["metadata"]["deletionGracePeriodSeconds"] == 45, "answered as it would be"
    assert "deletionTimestamp" not in _ok(upstream.get(f"{PODS}/graceful"))["metadata"]

    marked = _ok(upstream.delete(f"{PODS}/graceful"))
    meta = marked["metadata"]
    assert meta["deletionGracePeriodSeconds"] == 45, "the pod's terminationGracePeriodSeconds"
    assert 40 < _seconds_from_now(meta["deletionTimestamp"]) <= 46
    # BeforeDelete bumps a generation above 0 only; a 1.32 Pod has none (its strategy sets one
    # from 1.33, behind PodObservedGenerationTracking), so none appears.
    assert "generation" not in created["metadata"]
    assert "generation" not in meta
    still = _ok(upstream.get(f"{PODS}/graceful"))
    assert still["metadata"]["deletionTimestamp"] == meta["deletionTimestamp"]

    longer = _ok(upstream.delete(f"{PODS}/graceful", json={"gracePeriodSeconds": 100}))
    assert longer["metadata"]["resourceVersion"] == meta["resourceVersion"], "only shorter"
    shorter = _ok(upstream.delete(f"{PODS}/graceful", json={"gracePeriodSeconds": 5}))
    assert shorter["metadata"]["deletionGracePeriodSeconds"] == 5
    moved = _seconds_from_now(meta["deletionTimestamp"]) - _seconds_from_now(
        shorter["metadata"]["deletionTimestamp"]
    )
    assert moved == pytest.approx(40, abs=0.01), "the deadline moves back by the difference"

    status = {"status": {"phase": "Running"}}
    patched = upstream.patch(f"{PODS}/graceful/status", status, "application/merge-patch+json")
    assert _ok(patched)["status"]["phase"] == "Running", "a terminating pod's status is written"
    assert upstream.get(f"{PODS}/graceful").status_code == 200

    gone = _ok(upstream.delete(f"{PODS}/graceful", params={"gracePeriodSeconds": "0"}))
    assert gone["metadata"]["deletionGracePeriodSeconds"] == 0
    assert upstream.get(f"{PODS}/graceful").status_code == 404
    events = watch.until_deleted()
    seen = [(e["type"], e["object"]["metadata"].get("deletionGracePeriodSeconds")) for e in events]
    assert seen == [
        ("MODIFIED", 45),
        ("MODIFIED", 5),
        ("MODIFIED", 5),
        ("MODIFIED", 0),
        ("DELETED", 0),
    ]


@pytest.mark.parametrize(
    ("pod", "options", "why"),
    [
        (_pod("unscheduled", node=None), None, "never scheduled"),
        (_pod("forced", grace=30), {"gracePeriodSeconds": 0}, "period 0 asked"),
    ],
)
def test_a_pod_with_period_zero_is_marked_then_removed_at_once(
    upstream: ClusterClient, pod: dict[str, Any], options: dict[str, Any] | None, why: str
) -> None:
    name = pod["metadata"]["name"]
    created = _ok(upstream.post(PODS, pod), 201)
    watch = Watch(upstream, name, created["metadata"]["resourceVersion"])
    answer = _ok(upstream.delete(f"{PODS}/{name}", json=options))
    assert answer["metadata"]["deletionGracePeriodSeconds"] == 0, why
    assert upstream.get(f"{PODS}/{name}").status_code == 404, why
    assert [e["type"] for e in watch.until_deleted()] == ["MODIFIED", "DELETED"], why


def test_a_finished_pod_goes_at_once_and_a_negative_period_is_one_second(
    upstream: ClusterClient,
) -> None:
    _ok(upstream.post(PODS, _pod("finished")), 201)
    done = {"status": {"phase": "Succeeded"}}
    _ok(upstream.patch(f"{PODS}/finished/status", done, "application/merge-patch+json"))
    _ok(upstream.delete(f"{PODS}/finished"))
    assert upstream.get(f"{PODS}/finished").status_code == 404

    _ok(upstream.post(PODS, _pod("negative")), 201)
    marked = _ok(upstream.delete(f"{PODS}/negative", json={"gracePeriodSeconds": -5}))
    assert marked["metadata"]["deletionGracePeriodSeconds"] == 1
    _ok(upstream.delete(f"{PODS}/negative", json={"gracePeriodSeconds": 0}))
    assert upstream.delete(f"{PODS}/negative").status_code == 404

    refused = upstream.delete(f"{PODS}/none", params={"gracePeriodSeconds": "soon"})
    assert refused.status_code == 400, "the options are read before the object is looked up"


def test_finalizers_hold_a_pod_whose_period_is_over_and_other_kinds_go_at_once(
    upstream: ClusterClient,
) -> None:
    held = _pod("held")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    _ok(upstream.post(PODS, held), 201)
    _ok(upstream.delete(f"{PODS}/held", json={"gracePeriodSeconds": 0}))
    kept = _ok(upstream.get(f"{PODS}/held"))
    assert kept["metadata"]["deletionGracePeriodSeconds"] == 0
    release = {"metadata": {"finalizers": None}}
    _ok(upstream.patch(f"{PODS}/held", release, "application/merge-patch+json"))
    assert upstream.get(f"{PODS}/held").status_code == 404

    _ok(upstream.post(CONFIGMAPS, {"metadata": {"name": "plain"}}), 201)
    answer = _ok(upstream.delete(f"{CONFIGMAPS}/plain", json={"gracePeriodSeconds": 30}))
    assert answer["kind"] == "Status", "no graceful deletion for ConfigMaps"
    assert upstream.get(f"{CONFIGMAPS}/plain").status_code == 404


@pytest.fixture(scope="module")
def official(apiserver: BackgroundAPIServer) -> Iterator[client.CoreV1Api]:
    api_client = config.new_client_from_config(config_file=str(apiserver.kubeconfigs["upstream"]))
    with api_client:
        yield client.CoreV1Api(api_client)


def test_official_client_delete_options(official: client.CoreV1Api) -> None:
    container = client.V1Container(name="c", image="nginx")
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="official"),
        spec=client.V1PodSpec(node_name="node-3", containers=[container]),
    )
    official.create_namespaced_pod("default", pod)
    marked = official.delete_namespaced_pod("official", "default")
    assert marked.metadata is not None
    assert marked.metadata.deletion_grace_period_seconds == 30, "the defaulted 30 s"
    read = official.read_namespaced_pod("official", "default").metadata
    assert read is not None
    assert read.deletion_timestamp is not None
    official.delete_namespaced_pod(
        "official", "default", body=client.V1DeleteOptions(grace_period_seconds=0)
    )
    listed = official.list_namespaced_pod("default", field_selector="metadata.name=official")
    assert listed.items == []


@pytest.fixture(scope="module", params=("1.27", "1.33"), ids=lambda v: f"kubectl-{v}")
def kubectl(
    request: pytest.FixtureRequest,
    apiserver: BackgroundAPIServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Kubectl:
    cache = tmp_path_factory.mktemp(f"graceful-cache-{request.param}")
    return kubectl_or_skip(request.param, apiserver.kubeconfigs["upstream"], cache)


def test_kubectl_shows_terminating_and_force_deletes(kubectl: Kubectl) -> None:
    name = f"k{''.join(str(part) for part in kubectl.version)}"
    kubectl.run("create", "-f", "-", stdin=json.dumps(_pod(name)))
    deleted = kubectl.run("delete", "pod", name, "--wait=false")
    assert deleted.stdout.strip() == f'pod "{name}" deleted'
    shown = kubectl.run("get", "pod", name, "--no-headers")
    assert shown.stdout.split()[2] == "Terminating"
    forced = kubectl.run("delete", "pod", name, "--grace-period=0", "--force")
    assert f'pod "{name}" force deleted' in forced.stdout
    missing = kubectl.run("get", "pod", name, check=False)
    assert missing.returncode != 0
    assert "NotFound" in missing.stderr


def test_delete_preconditions_answer_before_delete_s_conflict(upstream: ClusterClient) -> None:
    """``BeforeDelete`` checks DeleteOptions' preconditions first; its 409 names the kind."""
    created = _ok(upstream.post(PODS, _pod("guarded", node=None)), 201)
    wrong_uid = {"preconditions": {"uid": "not-it"}}
    refused = upstream.delete(f"{PODS}/guarded", json=wrong_uid)
    assert refused.status_code == 409
    assert refused.json()["reason"] == "Conflict"
    assert refused.json()["details"] == {"name": "guarded", "kind": "Pod"}
    assert refused.json()["message"] == (
        'Operation cannot be fulfilled on Pod "guarded": the UID in the precondition (not-it) '
        f"does not match the UID in record ({created['metadata']['uid']}). The object might "
        "have been deleted and then recreated"
    )
    stale = {"preconditions": {"resourceVersion": "1"}}
    refused = upstream.delete(f"{PODS}/guarded", json=stale)
    assert refused.status_code == 409
    assert refused.json()["message"] == (
        'Operation cannot be fulfilled on Pod "guarded": the ResourceVersion in the '
        "precondition (1) does not match the ResourceVersion in record "
        f"({created['metadata']['resourceVersion']}). The object might have been modified"
    )
    own = {"preconditions": {"uid": created["metadata"]["uid"]}}
    _ok(upstream.delete(f"{PODS}/guarded", json=own))
    assert upstream.get(f"{PODS}/guarded").status_code == 404


def test_a_generation_the_pod_carries_moves_on_when_it_is_marked(upstream: ClusterClient) -> None:
    """``BeforeDelete`` bumps ``generation`` when it is above 0; a 1.32 Pod keeps the one its
    create sent (``rest.BeforeCreate`` leaves it alone), so the marking moves it on by one."""
    pod = _pod("counted")
    pod["metadata"]["generation"] = 2
    created = _ok(upstream.post(PODS, pod), 201)
    assert created["metadata"]["generation"] == 2
    marked = _ok(upstream.delete(f"{PODS}/counted"))
    assert marked["metadata"]["generation"] == 3
    assert upstream.delete(f"{PODS}/counted", params={"gracePeriodSeconds": "0"}).status_code == 200
