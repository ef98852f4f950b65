"""The upstream reaches a target's cluster through the hub's proxy and the reverse tunnel."""

from __future__ import annotations

import json

import pytest
from kubernetes import client as k8s_client

from pytest_syncer.harness.tunnel_client import TunnelClient
from pytest_syncer.harness.workloads import WorkloadFactory

pytestmark = pytest.mark.syncer_e2e


@pytest.mark.conformance("tunnel.reach")
def test_tunnel_reaches_each_targets_own_api(
    tunnel_client: TunnelClient, workload: WorkloadFactory
) -> None:
    settings = workload("configmap.yaml", targets=3)
    settings.wait_synced()
    for target in sorted(settings.placed):
        below = settings.downstream_namespace(target)
        through = k8s_client.CoreV1Api(tunnel_client.api(target))
        found = through.read_namespaced_config_map("settings", below)
        assert found.data == {"mode": "production", "replicas": "2"}
        names = {ns.metadata.name for ns in through.list_namespace().items if ns.metadata}
        assert below in names


@pytest.mark.conformance("tunnel.allow-list")
@pytest.mark.parametrize("path", ["/metrics", "/logs/", "/debug/pprof/"])
def test_tunnel_refuses_a_target_path_outside_the_allow_list(
    tunnel_client: TunnelClient, workload: WorkloadFactory, path: str
) -> None:
    """The syncer's end of the tunnel answers 403 itself: the path never reaches the cluster."""
    [target] = workload.choose(1)
    through = tunnel_client.api(target)
    request = through.param_serialize("GET", path, auth_settings=["BearerToken"])
    response = through.call_api(*request)
    assert response.status == 403
    status = json.loads(response.read())
    assert (status["kind"], status["code"]) == ("Status", 403)
    assert status["message"] == f"path {path!r} is not reachable through the tunnel"
