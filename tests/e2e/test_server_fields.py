"""What each target's API server does to a copy: fills defaults, allocates, refuses changes.

Every target is a real-behaving API server (defaults, cluster IPs and node ports of its own,
Job selectors for its own uid, immutable fields), so the syncer must never send down what a
server set above, must not fight the defaults below, and must turn a change the target refuses
as immutable into a delete and a create.
"""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

import pytest

from pytest_syncer.contract.naming import WORKLOAD_UID_LABEL
from pytest_syncer.harness.faults import Faults
from pytest_syncer.harness.kube import KINDS
from pytest_syncer.harness.waiting import wait_until
from pytest_syncer.harness.workloads import Workload, WorkloadFactory, load_manifest

pytestmark = pytest.mark.syncer_e2e

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")


def _copies(placed: Workload) -> dict[str, dict[str, Any]]:
    found = {target: placed.downstream(target) for target in sorted(placed.placed)}
    assert all(copy is not None for copy in found.values())
    return {target: copy for target, copy in found.items() if copy is not None}


@pytest.mark.conformance("core.server-fields.left-alone")
def test_services_get_their_own_addresses_below(workload: WorkloadFactory) -> None:
    cluster_ip = workload("service.yaml")
    headless = workload("service-headless.yaml")
    node_port = workload("service-nodeport.yaml")
    for placed in (cluster_ip, headless, node_port):
        placed.wait_converged()
    above = cluster_ip.get()["spec"]["clusterIP"]
    for copy_below in _copies(cluster_ip).values():
        spec = copy_below["spec"]
        assert ipaddress.ip_address(spec["clusterIP"]) in SERVICE_CIDR
        assert spec["clusterIPs"] == [spec["clusterIP"]]
        assert (spec["type"], spec["sessionAffinity"], spec["ports"][0]["protocol"]) == (
            "ClusterIP",
            "None",
            "TCP",
        )
    addresses = {c["spec"]["clusterIP"] for c in _copies(cluster_ip).values()}
    assert addresses, f"the upstream address {above} is the upstream's own"
    for copy_below in _copies(headless).values():
        assert copy_below["spec"]["clusterIP"] == "None"
    for copy_below in _copies(node_port).values():
        assert 30000 <= copy_below["spec"]["ports"][0]["nodePort"] <= 32767


@pytest.mark.conformance("core.server-fields.left-alone")
def test_jobs_get_a_selector_for_their_own_uid_below(workload: WorkloadFactory) -> None:
    job = workload("job.yaml")
    job.wait_converged()
    upstream_uid = job.get()["metadata"]["uid"]
    for copy_below in _copies(job).values():
        uid = copy_below["metadata"]["uid"]
        assert uid != upstream_uid
        assert copy_below["spec"]["selector"] == {
            "matchLabels": {"batch.kubernetes.io/controller-uid": uid}
        }
        labels = copy_below["spec"]["template"]["metadata"]["labels"]
        assert labels["controller-uid"] == uid
        assert labels["batch.kubernetes.io/job-name"] == "migrate"


def _foreign(
    workload: WorkloadFactory, manifest: str, namespace: str, change: dict[str, Any]
) -> dict[str, Any]:
    """The manifest as someone else's object below, with ``change`` in its spec."""
    obj = copy.deepcopy(load_manifest(manifest, workload.search))
    obj["metadata"] = {"name": obj["metadata"]["name"], "namespace": namespace}
    obj["spec"] = {**obj["spec"], **change}
    return obj


OTHER_SELECTOR = {
    "selector": {"matchLabels": {"app": "other"}},
    "template": {
        "metadata": {"labels": {"app": "other"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]},
    },
}
OTHER_TEMPLATE = {
    "template": {
        "metadata": {"labels": {"app": "migrate"}},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "migrate", "image": "busybox:1.35"}],
        },
    }
}


@pytest.mark.conformance("core.immutable-fields")
@pytest.mark.parametrize(
    ("manifest", "change"),
    [("deployment.yaml", OTHER_SELECTOR), ("job.yaml", OTHER_TEMPLATE)],
    ids=["deployment-selector", "job-template"],
)
def test_an_immutable_difference_below_is_deleted_and_created_on_every_target(
    workload: WorkloadFactory, manifest: str, change: dict[str, Any]
) -> None:
    """A copy below that differs in a field its server keeps immutable (here a foreign object
    taken over with `overwrite`) can only become the upstream's by a delete and a create."""
    first = workload("configmap.yaml")
    first.wait_converged()
    foreign_uids = {}
    for target in sorted(first.placed):
        below = first.downstream_namespace(target)
        foreign = _foreign(workload, manifest, below, change)
        created = first.target(target).cluster.create(foreign, below)
        foreign_uids[target] = created["metadata"]["uid"]
    placed = workload(manifest, strategy="overwrite")
    placed.wait_converged()
    for target, copy_below in _copies(placed).items():
        assert copy_below["metadata"]["uid"] != foreign_uids[target]

    def recreated() -> list[str]:
        events = placed.env.upstream.list(KINDS[("v1", "Event")], placed.namespace)
        return [
            event["message"]
            for event in events
            if event.get("reason") == "Recreated" and event["involvedObject"]["name"] == placed.name
        ]

    messages = wait_until(
        recreated,
        lambda found: len(found) >= len(foreign_uids),
        what=f"a Recreated Event per target for {placed!r}",
        timeout=placed.timeout,
    )
    assert all("an immutable field changed" in message for message in messages)


def _recreated_events(placed: Workload, uid: str) -> list[dict[str, Any]]:
    """The Recreated Events of the upstream object with ``uid``."""
    events = placed.env.upstream.list(KINDS[("v1", "Event")], placed.namespace)
    return [
        event
        for event in events
        if event.get("reason") == "Recreated" and event["involvedObject"].get("uid") == uid
    ]


@pytest.mark.conformance("core.immutable-fields")
@pytest.mark.parametrize(
    ("manifest", "change"),
    [("deployment.yaml", OTHER_SELECTOR), ("job.yaml", OTHER_TEMPLATE)],
    ids=["deployment-selector", "job-template"],
)
def test_an_upstream_replace_with_a_new_immutable_field_reaches_every_target(
    faults: Faults, workload: WorkloadFactory, manifest: str, change: dict[str, Any]
) -> None:
    """An upstream change to a field the upstream server itself keeps immutable (apps/v1
    Deployment ``spec.selector``, Job ``spec.template``: the same validation runs above and
    below) cannot be an update: it is a replace, a delete and a create under the same name
    (``kubectl replace --force``). The syncer's finalizer normally makes the copies go before
    the old object does, so the replace reaches a copy still holding the old field only when the
    syncers missed the delete: here they are down (SIGKILL) while the object is deleted, its
    finalizer cleared by hand as a user does when the controller holding it is down, and
    created again with the new field. Started again, each syncer finds the new object above and
    the old copy below; the update is refused as immutable, so the copy must be deleted and
    created, which each target reports as a ``Recreated`` Event on the new object and a
    SyncStatus for the new object's uid. Up to five targets (drawn with the seed): every
    syncer of the workload is killed and started again one by one, which at fifty would outlast
    the wait."""
    placed = workload(manifest, targets=min(5, workload.env.size))
    placed.wait_converged()
    old = placed.get()
    old_copies = {target: c["metadata"]["uid"] for target, c in _copies(placed).items()}
    for target in sorted(placed.placed):
        faults.kill_syncer(target)
    upstream = placed.env.upstream
    upstream.delete(placed.kind, placed.name, placed.namespace)
    upstream.patch(placed.kind, placed.name, {"metadata": {"finalizers": None}}, placed.namespace)
    wait_until(
        lambda: upstream.find(placed.kind, placed.name, placed.namespace),
        lambda found: found is None,
        what=f"the old {placed!r} gone upstream once its finalizer is cleared",
        timeout=placed.timeout,
    )
    fresh = copy.deepcopy(load_manifest(manifest, workload.search))
    fresh["metadata"]["namespace"] = placed.namespace
    fresh["metadata"]["labels"] = old["metadata"]["labels"]
    fresh["spec"] = {**fresh["spec"], **change}
    new_uid = upstream.create(fresh, placed.namespace)["metadata"]["uid"]
    assert new_uid != old["metadata"]["uid"]
    placed.expected = {**placed.expected, "spec": fresh["spec"]}
    placed.mark_written()
    faults.heal()
    placed.wait_converged()
    for target, copy_below in _copies(placed).items():
        assert copy_below["metadata"]["uid"] != old_copies[target], f"{target} kept the old copy"
    events = wait_until(
        lambda: _recreated_events(placed, new_uid),
        lambda found: len({event["source"]["component"] for event in found}) >= len(placed.placed),
        what=f"a Recreated Event per target on the new {placed!r} (uid {new_uid})",
        timeout=placed.timeout,
    )
    assert all("an immutable field changed" in event["message"] for event in events)
    for target in sorted(placed.placed):
        status = placed.sync_status(target)
        assert status is not None, f"no SyncStatus on {target}"
        assert status["metadata"]["labels"][WORKLOAD_UID_LABEL] == new_uid


@pytest.mark.conformance("core.server-fields.left-alone")
def test_a_label_less_job_is_created_on_every_target(workload: WorkloadFactory) -> None:
    """A Job created without labels reads back with its template's as its own, and the template
    with the generated ``controller-uid``/``job-name`` labels (``SetDefaults_Job`` and
    ``generateSelector``, kubernetes/kubernetes ``pkg/apis/batch/v1/defaults.go`` and
    ``pkg/registry/batch/job/strategy.go``); placed afterwards (a placement label added), it
    must reach every target with none of the upstream Job's generated labels: each copy gets
    its own from its server."""
    manifest = copy.deepcopy(load_manifest("job.yaml", workload.search))
    manifest["metadata"] = {"name": "label-less"}
    manifest["spec"]["template"].pop("metadata", None)
    job = workload(manifest, targets=[])
    upstream = job.get()
    uid = upstream["metadata"]["uid"]
    assert upstream["metadata"]["labels"]["batch.kubernetes.io/controller-uid"] == uid
    job.place(*sorted(job.env.targets))
    job.wait_converged()
    for target, copy_below in _copies(job).items():
        own_uid = copy_below["metadata"]["uid"]
        labels = copy_below["metadata"].get("labels") or {}
        carried = {key: value for key, value in labels.items() if value == uid}
        assert not carried, f"{target}: the upstream Job's labels {carried} copied down"
        template_labels = copy_below["spec"]["template"]["metadata"]["labels"]
        assert template_labels["batch.kubernetes.io/controller-uid"] == own_uid, target
        assert copy_below["spec"]["selector"] == {
            "matchLabels": {"batch.kubernetes.io/controller-uid": own_uid}
        }
