"""Server-side apply over defaulted fields, through HTTP, as kube-apiserver's field manager does.

Facts (kubernetes/kubernetes ``staging/src/k8s.io/apiserver/pkg/util/managedfields/internal/
structuredmerge.go``, ``Apply``): the applied configuration is merged into the live object and
only then defaulted (``objectDefaulter.Default`` on the merged object), and the applier's field
set is the applied configuration's own, so fields the server defaults belong to no manager. An
associative list's key field that the configuration leaves out takes its OpenAPI default when
the item is keyed (structured-merge-diff; ``+default="TCP"`` on ``ContainerPort.Protocol`` and
``ServicePort.Protocol`` in ``k8s.io/api/core/v1/types.go``): ``- containerPort: 80`` is
``k:{"containerPort":80,"protocol":"TCP"}``, the same item as one that names ``TCP``, and
another item than one on ``UDP`` (kubernetes-sigs/structured-merge-diff#130).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.apiserver.clients import ClusterClient

APPLY = "application/apply-patch+yaml"
DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"
SERVICES = "/api/v1/namespaces/default/services"
DEFAULTED = ("f:replicas", "f:strategy", "f:revisionHistoryLimit", "f:progressDeadlineSeconds")


def _deployment(name: str, port: dict[str, Any]) -> dict[str, Any]:
    container = {"name": "web", "image": "nginx:1.27", "ports": [port]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [container]},
            },
        },
    }


def _applied(client: ClusterClient, path: str, body: dict[str, Any], manager: str) -> Any:
    answer = client.patch(path, body, APPLY, params={"fieldManager": manager})
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def _fields(obj: dict[str, Any], manager: str) -> dict[str, Any]:
    [entry] = [e for e in obj["metadata"]["managedFields"] if e["manager"] == manager]
    fields: dict[str, Any] = entry["fieldsV1"]
    return fields


def _port_fields(obj: dict[str, Any], manager: str) -> dict[str, Any]:
    spec = _fields(obj, manager)["f:spec"]["f:template"]["f:spec"]
    ports: dict[str, Any] = spec["f:containers"]['k:{"name":"web"}']["f:ports"]
    return ports


def test_applying_a_minimal_deployment_owns_only_what_it_sent(upstream: ClusterClient) -> None:
    path = f"{DEPLOYMENTS}/minimal"
    body = _deployment("minimal", {"containerPort": 80})
    first = _applied(upstream, path, body, "ci")
    assert first["spec"]["replicas"] == 1, "defaulted after the merge"
    assert not set(DEFAULTED) & set(_fields(first, "ci")["f:spec"])
    assert _port_fields(first, "ci") == {
        'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}
    }
    again = _applied(upstream, path, body, "ci")
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


def test_naming_a_defaulted_key_is_the_same_item(upstream: ClusterClient) -> None:
    path = f"{DEPLOYMENTS}/named-protocol"
    _applied(upstream, path, _deployment("named-protocol", {"containerPort": 80}), "ci")
    named = {"containerPort": 80, "protocol": "TCP"}
    after = _applied(upstream, path, _deployment("named-protocol", named), "ci")
    assert after["spec"]["template"]["spec"]["containers"][0]["ports"] == [named]
    assert _port_fields(after, "ci") == {
        'k:{"containerPort":80,"protocol":"TCP"}': {
            ".": {},
            "f:containerPort": {},
            "f:protocol": {},
        }
    }


@pytest.mark.parametrize("leave_out", ["tcp", "udp"])
def test_one_port_on_two_protocols_is_two_items(upstream: ClusterClient, leave_out: str) -> None:
    """A DNS Service: port 53 on TCP (protocol left to its default) and on UDP; applying again
    without one of them removes that one only."""
    name = f"dns-{leave_out}"
    tcp = {"name": "dns-tcp", "port": 53}
    udp = {"name": "dns", "port": 53, "protocol": "UDP"}
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": "dns"}, "ports": [tcp, udp]},
    }
    created = _applied(upstream, f"{SERVICES}/{name}", body, "ci")
    ports = created["spec"]["ports"]
    assert [(p["name"], p["protocol"]) for p in ports] == [("dns-tcp", "TCP"), ("dns", "UDP")]
    assert set(_fields(created, "ci")["f:spec"]["f:ports"]) == {
        'k:{"port":53,"protocol":"TCP"}',
        'k:{"port":53,"protocol":"UDP"}',
    }
    kept = udp if leave_out == "tcp" else tcp
    body["spec"]["ports"] = [kept]
    after = _applied(upstream, f"{SERVICES}/{name}", body, "ci")
    assert [p["name"] for p in after["spec"]["ports"]] == [kept["name"]]
