"""The public strategies draw what they promise: valid 1.32 objects and valid names.

They also have to bite: with `upstream=True` every kind of upstream-only data shows up, or a
transform that leaks it would pass its property tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import kubernetes_validate
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_syncer import strategies as k8s
from tests.property.conftest import large_objects
from tests.support.objects import SERVER_FIELDS

BUILT_IN = {
    "configmaps": k8s.configmaps,
    "secrets": k8s.secrets,
    "services": k8s.services,
    "deployments": k8s.deployments,
    "statefulsets": k8s.statefulsets,
    "jobs": k8s.jobs,
    "ingresses": k8s.ingresses,
}
ALL_KINDS = {**BUILT_IN, "custom_resources": k8s.custom_resources}
LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
QUALIFIED_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
KCP_ANNOTATION_PREFIXES = (
    "kcp.io/cluster",
    "experimental.status.workload.kcp.io/",
    "finalizers.workload.kcp.io/",
    "deletion.internal.workload.kcp.io/",
    "workload.kcp.io/",
)


def is_label_key(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    prefix_ok = prefix == "" or (len(prefix) <= 253 and SUBDOMAIN.match(prefix) is not None)
    return prefix_ok and len(name) <= 63 and QUALIFIED_NAME.match(name) is not None


@pytest.mark.parametrize("name", sorted(BUILT_IN))
@large_objects
@given(data=st.data())
def test_built_in_objects_validate_against_kubernetes_1_32(
    name: str, data: st.DataObject, k8s_validate: Callable[[dict[str, Any]], None]
) -> None:
    k8s_validate(data.draw(BUILT_IN[name](), label=name))


@pytest.mark.parametrize("name", sorted(BUILT_IN))
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_fast_validator_agrees_with_kubernetes_validate(name: str, data: st.DataObject) -> None:
    obj = data.draw(BUILT_IN[name](), label=name)
    assert kubernetes_validate.validate(obj, "1.32.0", strict=True) == "1.32"


@given(k8s.dns_labels(), k8s.namespaces())
def test_dns_labels_and_namespaces_are_rfc_1123_labels(label: str, namespace: str) -> None:
    for value in (label, namespace):
        assert len(value) <= 63
        assert LABEL.match(value), value


@given(k8s.dns_subdomains())
def test_dns_subdomains_are_rfc_1123_subdomains(name: str) -> None:
    assert len(name) <= 253
    assert SUBDOMAIN.match(name), name


@given(k8s.label_keys(), k8s.label_values(), k8s.annotations())
def test_label_keys_values_and_annotation_keys_are_valid(
    key: str, value: str, annotations: dict[str, str]
) -> None:
    assert is_label_key(key), key
    assert value == "" or (len(value) <= 63 and QUALIFIED_NAME.match(value)), value
    assert all(is_label_key(name) for name in annotations), annotations


@large_objects
@given(st.one_of([strategy(upstream=False) for strategy in ALL_KINDS.values()]))
def test_user_objects_carry_no_upstream_only_metadata(obj: dict[str, Any]) -> None:
    metadata = obj["metadata"]
    assert not SERVER_FIELDS & set(metadata)
    assert "status" not in obj
    assert not any(key.startswith("state.workload.kcp.io/") for key in metadata.get("labels", {}))
    assert not any(
        key.startswith(KCP_ANNOTATION_PREFIXES) for key in metadata.get("annotations", {})
    )


@large_objects
@given(k8s.sync_targets(), st.sampled_from(sorted(ALL_KINDS)), st.data())
def test_placed_on_places_the_object_on_those_targets(
    target: k8s.SyncTarget, name: str, data: st.DataObject
) -> None:
    obj = data.draw(ALL_KINDS[name](placed_on=[target.key]))
    assert obj["metadata"]["labels"][f"state.workload.kcp.io/{target.key}"] == "Sync"
    assert re.fullmatch(r"[0-9a-zA-Z]+", target.key)


def _draws(strategy: st.SearchStrategy[dict[str, Any]], count: int = 50) -> list[dict[str, Any]]:
    """`count` derandomized draws: the same objects every run, no shrinking."""
    drawn: list[dict[str, Any]] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(strategy)
    def draw(obj: dict[str, Any]) -> None:
        drawn.append(obj)

    draw()
    return drawn


def _missing(
    drawn: list[dict[str, Any]], features: dict[str, Callable[[dict[str, Any]], bool]]
) -> set[str]:
    return {name for name, present in features.items() if not any(present(obj) for obj in drawn)}


def _has_metadata_field(field: str) -> Callable[[dict[str, Any]], bool]:
    return lambda obj: field in obj["metadata"]


def _has_label_prefix(prefix: str) -> Callable[[dict[str, Any]], bool]:
    return lambda obj: any(key.startswith(prefix) for key in obj["metadata"].get("labels", {}))


def _has_annotation_prefix(prefix: str) -> Callable[[dict[str, Any]], bool]:
    return lambda obj: any(key.startswith(prefix) for key in obj["metadata"].get("annotations", {}))


def test_upstream_metadata_reaches_every_server_field_and_kcp_annotation() -> None:
    features: dict[str, Callable[[dict[str, Any]], bool]] = {
        field: _has_metadata_field(field) for field in SERVER_FIELDS
    }
    features.update({prefix: _has_annotation_prefix(prefix) for prefix in KCP_ANNOTATION_PREFIXES})
    features["placement"] = _has_label_prefix("state.workload.kcp.io/")
    assert _missing(_draws(k8s.configmaps()), features) == set()


KIND_FEATURES: dict[str, dict[str, Callable[[dict[str, Any]], bool]]] = {
    "configmaps": {"root CA": lambda obj: obj["metadata"]["name"] == "kube-root-ca.crt"},
    "secrets": {
        "token": lambda obj: obj["type"] == "kubernetes.io/service-account-token",
        "long token name": lambda obj: len(obj["metadata"]["name"]) > 249,
    },
    "services": {
        "headless": lambda obj: obj["spec"].get("clusterIP") == "None",
        "cluster IP": lambda obj: obj["spec"].get("clusterIP", "None") != "None",
        "node port": lambda obj: "nodePort" in obj["spec"]["ports"][0],
        "health check port": lambda obj: "healthCheckNodePort" in obj["spec"],
    },
    "deployments": {
        "service account": lambda obj: "serviceAccountName" in obj["spec"]["template"]["spec"],
    },
    "statefulsets": {"claims": lambda obj: "volumeClaimTemplates" in obj["spec"]},
    "jobs": {"generated selector": lambda obj: "selector" in obj["spec"]},
    "ingresses": {},
    "custom_resources": {},
}


@pytest.mark.parametrize("name", sorted(ALL_KINDS))
def test_upstream_objects_reach_status_placement_and_every_rewritten_case(name: str) -> None:
    features = dict(KIND_FEATURES[name])
    if name not in ("configmaps", "secrets"):
        features["status"] = lambda obj: "status" in obj
    features["placement"] = _has_label_prefix("state.workload.kcp.io/")
    assert _missing(_draws(ALL_KINDS[name]()), features) == set()


IANA_SERVICE_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*(?<!-)$")


@large_objects
@given(st.one_of(k8s.services(), k8s.ingresses()))
def test_named_ports_and_paths_follow_the_api_servers_rules(obj: dict[str, Any]) -> None:
    """Rules the schemas do not carry but the API server enforces on create."""
    if obj["kind"] == "Service":
        ports = obj["spec"]["ports"]
        node_ports = [port["nodePort"] for port in ports if "nodePort" in port]
        assert len(set(node_ports)) == len(node_ports)
        named = [port["targetPort"] for port in ports if isinstance(port["targetPort"], str)]
    else:
        paths = [path for rule in obj["spec"]["rules"] for path in rule["http"]["paths"]]
        assert all(path["path"].startswith("/") and "//" not in path["path"] for path in paths)
        named = [
            path["backend"]["service"]["port"]["name"]
            for path in paths
            if "name" in path["backend"]["service"]["port"]
        ]
    for name in named:
        assert len(name) <= 15
        assert IANA_SERVICE_NAME.match(name), name
