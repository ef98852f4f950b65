"""Properties of the derived names: keys, namespaces, renames, SyncStatus names, codecs."""

from __future__ import annotations

import hashlib
import json
import re

from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer import strategies as k8s
from pytest_syncer.contract.naming import base36, base62, go_json_string, sync_status_name
from pytest_syncer.contract.objects import KubeObject, NamespaceLocator, SyncTarget
from pytest_syncer.syncer.interfaces import TransformContext
from pytest_syncer.syncer.transform.pipeline import downstream_pipeline, upstream_pipeline
from pytest_syncer.syncer.transform.renames import (
    downstream_name,
    is_reserved_upstream_name,
    upstream_name,
)
from tests.property.conftest import large_objects

LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DIGITS62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
DOWN = downstream_pipeline()
UP = upstream_pipeline()

# Cluster names and namespaces are drawn as arbitrary text too: the hash must not care.
clusters = st.one_of(k8s.sync_targets().map(lambda target: target.upstream_cluster), st.text())
any_namespaces = st.one_of(k8s.namespaces(), st.text())


def decode(text: str, digits: str) -> int:
    value = 0
    for char in text:
        value = value * len(digits) + digits.index(char)
    return value


def encode(number: int, digits: str) -> str:
    text = ""
    while number:
        number, digit = divmod(number, len(digits))
        text = digits[digit] + text
    return text


@given(k8s.sync_targets(), clusters, any_namespaces)
def test_downstream_namespace_is_a_dns_label_of_at_most_63(
    target: SyncTarget, cluster: str, namespace: str
) -> None:
    name = NamespaceLocator(target, cluster, namespace).downstream_namespace
    assert len(name) <= 63
    assert LABEL.match(name), name
    assert re.fullmatch(r"kcp-[0-9a-z]{12}", name)


@given(
    st.lists(
        st.tuples(clusters, any_namespaces, k8s.sync_targets()),
        min_size=2,
        max_size=60,
        unique=True,
    )
)
def test_distinct_triples_never_share_a_downstream_namespace(
    triples: list[tuple[str, str, SyncTarget]],
) -> None:
    names = {
        NamespaceLocator(target, cluster, ns).downstream_namespace
        for cluster, ns, target in triples
    }
    assert len(names) == len(triples)


@given(k8s.sync_targets(), clusters, any_namespaces)
def test_locator_json_round_trips_and_is_what_the_namespace_hashes(
    target: SyncTarget, cluster: str, namespace: str
) -> None:
    locator = NamespaceLocator(target, cluster, namespace)
    text = locator.to_json()
    assert NamespaceLocator.from_json(text) == locator
    assert list(json.loads(text)) == ["syncTarget", "cluster", "namespace"]
    assert not set(text) & set("<>&\u2028\u2029")
    digest = hashlib.sha224(text.encode()).digest()
    zeros = len(digest) - len(digest.lstrip(b"\0"))
    expected = "0" * zeros + encode(int.from_bytes(digest, "big"), DIGITS62[:36])
    assert locator.downstream_namespace == "kcp-" + expected[:12]


@given(st.text())
def test_go_json_strings_decode_back_to_the_same_text(text: str) -> None:
    encoded = go_json_string(text)
    assert json.loads(encoded) == text
    assert not set(encoded) & set("<>&")


@given(st.binary(max_size=40))
def test_base62_and_base36_encode_the_big_endian_integer(data: bytes) -> None:
    number = int.from_bytes(data, "big")
    encoded62 = base62(data)
    assert decode(encoded62, DIGITS62) == number
    assert encoded62 == "0" or not encoded62.startswith("0")
    encoded36 = base36(data)
    zeros = len(data) - len(data.lstrip(b"\0"))
    assert encoded36[:zeros] == "0" * zeros
    assert decode(encoded36, DIGITS62[:36]) == number


@given(k8s.sync_targets())
def test_sync_target_key_is_base62_of_sha224(target: SyncTarget) -> None:
    digest = hashlib.sha224(f"{target.upstream_cluster}:{target.name}".encode()).digest()
    assert decode(target.key, DIGITS62) == int.from_bytes(digest, "big")
    assert re.fullmatch(r"[0-9a-zA-Z]+", target.key)


names = st.one_of(
    k8s.dns_subdomains(),
    st.sampled_from(["kube-root-ca.crt", "kcp-root-ca.crt"]),
    k8s.dns_subdomains(max_size=239).map("default-token-".__add__),
    k8s.dns_subdomains(max_size=235).map("kcp-default-token-".__add__),
)


@given(st.sampled_from(["ConfigMap", "Secret", "Service"]), names)
def test_name_mapping_round_trips_and_stays_a_valid_name(kind: str, name: str) -> None:
    if is_reserved_upstream_name(kind, name):
        return
    mapped = downstream_name(kind, name)
    assert upstream_name(kind, mapped) == name
    assert len(mapped) <= 253
    assert SUBDOMAIN.match(mapped), mapped


@given(st.sampled_from(["ConfigMap", "Secret"]), names, names)
def test_no_two_upstream_names_map_to_the_same_downstream_name(
    kind: str, one: str, other: str
) -> None:
    if (
        one == other
        or is_reserved_upstream_name(kind, one)
        or is_reserved_upstream_name(kind, other)
    ):
        return
    assert downstream_name(kind, one) != downstream_name(kind, other)


@large_objects
@given(
    st.sampled_from([k8s.configmaps, k8s.secrets, k8s.deployments, k8s.custom_resources]).flatmap(
        lambda kind: kind()
    ),
    k8s.sync_targets(),
)
def test_the_upstream_pipeline_maps_name_namespace_and_labels_back(
    obj: KubeObject, target: SyncTarget
) -> None:
    if is_reserved_upstream_name(obj["kind"], obj["metadata"]["name"]):
        return
    context = TransformContext(target)
    down = DOWN(obj, context)
    up = UP(down, context.with_locators([context.locator(obj["metadata"]["namespace"])]))
    assert up["metadata"]["name"] == obj["metadata"]["name"]
    assert up["metadata"]["namespace"] == obj["metadata"]["namespace"]
    labels = {
        key: value
        for key, value in obj["metadata"].get("labels", {}).items()
        if not key.startswith(("state.workload.kcp.io/", "workload.kcp.io/"))
    }
    assert up["metadata"].get("labels", {}) == labels


@given(
    st.sampled_from(["deployments", "statefulsets.apps", "jobs"]),
    k8s.dns_subdomains(),
    k8s.dns_labels(),
)
def test_sync_status_names_are_valid_and_distinct_per_target(
    resource: str, workload: str, target: str
) -> None:
    name = sync_status_name(resource, workload, target)
    assert len(name) <= 253
    assert SUBDOMAIN.match(name), name
    assert name != sync_status_name(resource, workload, target + "x")
