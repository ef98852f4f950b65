"""The rest of the API a cluster has: nodes, quotas, priority classes, PDBs, ..., with kubectl,
the official client's DynamicClient over every group, and its leader election."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config, dynamic
from kubernetes.dynamic.resource import ResourceList
from kubernetes.leaderelection import electionconfig, leaderelection
from kubernetes.leaderelection.resourcelock.configmaplock import ConfigMapLock
from kubernetes.leaderelection.resourcelock.leaselock import LeaseLock

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.harness.waiting import wait_until
from tests.integration.apiserver.clients import ClusterClient
from tests.integration.apiserver.kubectl_runner import Kubectl, kubectl_or_skip
from tests.support.tokens import token_of

VERSIONS = ("1.27", "1.31", "1.32", "1.33")
PROTOBUF = "application/vnd.kubernetes.protobuf"


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundAPIServer]:
    directory = tmp_path_factory.mktemp("cluster-api")
    with BackgroundAPIServer(["upstream", "target-1"], directory / "kubeconfigs") as server:
        yield server


@pytest.fixture(scope="module", params=VERSIONS, ids=lambda v: f"kubectl-{v}")
def kubectl(
    request: pytest.FixtureRequest,
    apiserver: BackgroundAPIServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Kubectl:
    """kubectl with a cluster of its own, so each version starts from a newborn cluster."""
    version: str = request.param
    kubeconfig = apiserver.add_cluster("cluster-api-" + version.replace(".", "-"))
    cache = tmp_path_factory.mktemp(f"cluster-api-cache-{version}")
    return kubectl_or_skip(version, kubeconfig, cache)


def test_get_nodes_shows_three_ready_nodes(kubectl: Kubectl) -> None:
    lines = kubectl.run("get", "nodes").stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    rows = [line.split() for line in lines[1:]]
    assert [(row[0], row[1]) for row in rows] == [(f"node-{i}", "Ready") for i in (1, 2, 3)]
    assert rows[0][2] == "control-plane"
    wide = kubectl.run("get", "node", "node-2", "-o", "wide").stdout.splitlines()
    assert "INTERNAL-IP" in wide[0]
    assert "172.18.0.3" in wide[1].split()


def test_system_priority_classes_exist(kubectl: Kubectl) -> None:
    """The values of ``pkg/apis/scheduling/v1/helpers.go``."""
    shown = kubectl.run("get", "priorityclasses", "-o", "json").stdout
    values = {item["metadata"]["name"]: item["value"] for item in json.loads(shown)["items"]}
    assert values == {"system-cluster-critical": 2000000000, "system-node-critical": 2000001000}


def _protobuf_bodies_sent(kubectl: Kubectl, *args: str) -> bool:
    """Run a generator at -v=8; whether its POST carried a protobuf body."""
    result = kubectl.run(*args, "-v=8")
    return f"Content-Type: {PROTOBUF}" in result.stderr


def test_quota_priorityclass_and_pdb_generators(kubectl: Kubectl) -> None:
    """1.32 and newer send these as protobuf; every version gets them stored and printed."""
    sent = [
        _protobuf_bodies_sent(kubectl, "create", "quota", "q", "--hard=pods=5,configmaps=4"),
        _protobuf_bodies_sent(kubectl, "create", "priorityclass", "high", "--value=1000"),
        _protobuf_bodies_sent(
            kubectl, "create", "poddisruptionbudget", "pdb", "--selector=app=a", "--min-available=1"
        ),
    ]
    assert sent == [kubectl.version >= (1, 32)] * 3
    priority = json.loads(kubectl.run("get", "pc", "high", "-o", "json").stdout)
    assert priority["value"] == 1000
    pdb = kubectl.run("get", "pdb", "pdb").stdout.splitlines()
    assert pdb[0].split()[:3] == ["NAME", "MIN", "AVAILABLE"]
    assert pdb[1].split()[:3] == ["pdb", "1", "N/A"]
    kubectl.run("create", "configmap", "counted")

    def used() -> dict[str, Any]:
        quota = json.loads(kubectl.run("get", "quota", "q", "-o", "json").stdout)
        return dict((quota.get("status") or {}).get("used") or {})

    # The namespace's kube-root-ca.crt counts too, as on a real cluster (the root CA publisher
    # puts one in every namespace).
    wait_until(used, lambda seen: seen == {"pods": "0", "configmaps": "2"}, what="quota usage")
    row = kubectl.run("get", "quota", "q").stdout.splitlines()[1]
    assert "configmaps: 2/4, pods: 0/5" in row


def test_explain_new_kinds(kubectl: Kubectl) -> None:
    for field in ("node.status.nodeInfo", "pdb.spec.minAvailable", "endpointslice.endpoints"):
        assert "FIELD" in kubectl.run("explain", field).stdout


def test_dynamic_client_discovers_and_lists_every_group(apiserver: BackgroundAPIServer) -> None:
    api = config.new_client_from_config(config_file=str(apiserver.kubeconfigs["target-1"]))
    with api:
        dyn = dynamic.DynamicClient(api)
        groups = {group["name"] for group in dyn.request("GET", "/apis")["groups"]}
        for expected in (
            "discovery.k8s.io",
            "policy",
            "scheduling.k8s.io",
            "autoscaling",
            "storage.k8s.io",
            "apiregistration.k8s.io",
            "authorization.k8s.io",
        ):
            assert expected in groups
        listed = 0
        for resource in dyn.resources.search():
            if isinstance(resource, ResourceList) or "list" not in (resource.verbs or []):
                continue
            items = resource.get().items
            listed += 1
            if resource.kind == "Node":
                assert len(items) == 3
            if resource.kind == "APIService":
                names = {item.metadata.name for item in items}
                assert {"v1.", "v1.apps", "v1.policy", "v2.autoscaling"} <= names
        assert listed >= 35
        hpa = dyn.resources.get(api_version="autoscaling/v2", kind="HorizontalPodAutoscaler")
        assert hpa.namespaced


class Candidates:
    """Leader-election candidates, each on a thread of its own, joined when the test ends."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []

    def elect(
        self, lock: Any, lease_duration: int = 3, renew_deadline: int = 2, retry_period: int = 1
    ) -> threading.Event:
        """Run one candidate until it leads; it then steps down (its callback raises, which
        ends the client's renew loop and its `run`)."""
        leading = threading.Event()

        def started() -> None:
            leading.set()
            raise RuntimeError("the test's candidate steps down")

        settings = electionconfig.Config(
            lock, lease_duration, renew_deadline, retry_period, started, lambda: None
        )
        election = leaderelection.LeaderElection(settings)
        thread = threading.Thread(target=election.run, daemon=True)
        thread.start()
        self.threads.append(thread)
        return leading


@pytest.fixture
def candidates() -> Iterator[Candidates]:
    started = Candidates()
    yield started
    for thread in started.threads:
        thread.join(timeout=20)
    assert not any(thread.is_alive() for thread in started.threads), "a candidate kept running"


@pytest.fixture
def default_client(apiserver: BackgroundAPIServer) -> Iterator[None]:
    """The locks use the client's default configuration: target-1's, for this test only."""
    previous = client.Configuration.get_default_copy()
    config.load_kube_config(config_file=str(apiserver.kubeconfigs["target-1"]))
    yield
    client.Configuration.set_default(previous)


@pytest.mark.usefixtures("default_client")
def test_leader_election_with_leases_and_configmaps(
    apiserver: BackgroundAPIServer, candidates: Candidates
) -> None:
    http = ClusterClient(
        f"{apiserver.url}/clusters/target-1",
        token_of(apiserver.kubeconfigs["target-1"]),
        str(apiserver.ca_file),
    )
    first = candidates.elect(LeaseLock("elected", "default", "candidate-a"))
    assert first.wait(20), "the first candidate leads"
    lease = http.get("/apis/coordination.k8s.io/v1/namespaces/default/leases/elected").json()
    assert lease["spec"]["holderIdentity"] == "candidate-a"
    second = candidates.elect(LeaseLock("elected", "default", "candidate-b"))
    assert second.wait(20), "the second leads once the first's lease expired"
    wait_until(
        lambda: http.get("/apis/coordination.k8s.io/v1/namespaces/default/leases/elected").json(),
        lambda held: held["spec"]["holderIdentity"] == "candidate-b",
        what="the lease to name the second candidate",
    )
    by_configmap = candidates.elect(ConfigMapLock("elected-cm", "default", "candidate-c"))
    assert by_configmap.wait(20)
    stored = http.get("/api/v1/namespaces/default/configmaps/elected-cm").json()
    record = json.loads(
        stored["metadata"]["annotations"]["control-plane.alpha.kubernetes.io/leader"]
    )
    assert record["holderIdentity"] == "candidate-c"


def test_kubectl_reads_aggregated_discovery_only(kubectl: Kubectl) -> None:
    """Two requests, ``/api`` and ``/apis``, tell kubectl every resource (no per-version GETs)."""
    result = kubectl.run("api-resources", "-v=6")
    # 1.33 logs structured lines (verb="GET" url="...").
    urls = re.findall(r'(?:GET |verb="GET" url=")(https://[^\s"]+)', result.stderr)
    paths = [url.split("?")[0].split(kubectl.kubeconfig.stem, 1)[1] for url in urls]
    assert paths == ["/api", "/apis"], urls
    for name in ("nodes", "poddisruptionbudgets", "priorityclasses", "endpointslices"):
        assert name in result.stdout
