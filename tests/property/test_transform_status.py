"""Properties of the upward status mapping and of the SyncStatus record."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer import strategies as k8s
from pytest_syncer.contract.errors import InvalidFieldError
from pytest_syncer.contract.objects import ObjectReference, SyncPhase, SyncStatusRecord, SyncTarget
from pytest_syncer.syncer.interfaces import TransformContext
from pytest_syncer.syncer.transform.status import status_to_upstream

KINDS = ["Deployment", "StatefulSet", "Job", "Pod", "Service", "Widget"]
POD_ONLY = {"podIP", "podIPs", "hostIP", "hostIPs", "nominatedNodeName"}
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
conditions = st.lists(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["Ready", "Available"]), "status": st.just("True")},
        optional={"observedGeneration": st.integers(1, 9), "message": st.text(max_size=30)},
    ),
    max_size=3,
)
statuses = st.fixed_dictionaries(
    {},
    optional={
        "observedGeneration": st.integers(1, 100),
        "replicas": st.integers(0, 9),
        "podIP": st.just("10.0.0.1"),
        "hostIPs": st.just([{"ip": "192.168.0.1"}]),
        "uncountedTerminatedPods": st.just({"succeeded": ["u"]}),
        "conditions": conditions,
        "extra": json_values,
    },
)


@st.composite
def contexts(draw: st.DrawFn, min_namespaces: int = 0) -> TransformContext:
    """A context that knows a few downstream namespaces."""
    context = TransformContext(draw(k8s.sync_targets()))
    namespaces = draw(st.lists(k8s.namespaces(), min_size=min_namespaces, max_size=3, unique=True))
    return context.with_locators(context.locator(namespace) for namespace in namespaces)


@given(st.sampled_from(KINDS), statuses, contexts())
def test_status_to_upstream_is_pure_deterministic_and_idempotent(
    kind: str, status: dict[str, Any], context: TransformContext
) -> None:
    original = copy.deepcopy(status)
    once = status_to_upstream(kind, status, context)
    assert status == original
    assert status_to_upstream(kind, copy.deepcopy(status), context) == once
    assert status_to_upstream(kind, once, context) == once


@given(st.sampled_from(KINDS), statuses, contexts())
def test_only_downstream_only_fields_are_dropped(
    kind: str, status: dict[str, Any], context: TransformContext
) -> None:
    upstream = status_to_upstream(kind, status, context)
    assert "observedGeneration" not in upstream
    assert all(
        "observedGeneration" not in condition for condition in upstream.get("conditions", [])
    )
    dropped = set(status) - set(upstream)
    allowed = {"observedGeneration"}
    allowed |= POD_ONLY if kind == "Pod" else set()
    allowed |= {"uncountedTerminatedPods"} if kind == "Job" else set()
    assert dropped <= allowed
    for key in set(upstream) - {"conditions"}:
        assert upstream[key] == status[key]
    assert len(upstream.get("conditions", [])) == len(status.get("conditions", []))


@given(contexts(min_namespaces=1), st.text(max_size=10), st.text(max_size=10))
def test_condition_messages_name_upstream_namespaces(
    context: TransformContext, before: str, after: str
) -> None:
    assert context.namespace_locators, "no downstream namespace drawn: nothing would be checked"
    for downstream, locator in context.namespace_locators.items():
        message = f"{before} {downstream}/web {after}"
        status = {"conditions": [{"type": "Ready", "status": "False", "message": message}]}
        mapped = status_to_upstream("Deployment", status, context)["conditions"][0]["message"]
        assert mapped == f"{before} {locator.namespace}/web {after}"


@given(
    st.sampled_from(KINDS),
    st.one_of(
        st.tuples(st.just("status"), st.one_of(st.text(), st.integers(), st.lists(st.text()))),
        st.tuples(
            st.just("status.conditions"),
            st.one_of(st.text(), st.dictionaries(st.text(), st.text())),
        ),
        st.tuples(st.just("status.conditions[0]"), st.one_of(st.text(), st.integers())),
    ),
)
def test_a_malformed_status_is_a_typed_error_naming_the_field(
    kind: str, case: tuple[str, Any]
) -> None:
    field, value = case
    context = TransformContext(SyncTarget("t", "root", "u"))
    status: Any = value
    if field == "status.conditions":
        status = {"conditions": value}
    elif field == "status.conditions[0]":
        status = {"conditions": [value]}
    with pytest.raises(InvalidFieldError) as raised:
        status_to_upstream(kind, status, context)
    assert raised.value.field == field


records = st.builds(
    SyncStatusRecord,
    workload=st.builds(
        ObjectReference,
        api_version=st.sampled_from(["apps/v1", "batch/v1", "example.com/v1alpha1"]),
        kind=st.sampled_from(["Deployment", "Job", "Widget"]),
        resource=st.sampled_from(["deployments", "jobs", "widgets"]),
        name=k8s.dns_subdomains(),
        namespace=k8s.namespaces(),
        uid=st.uuids().map(str),
    ),
    target_name=k8s.dns_labels(),
    target_key=k8s.sync_targets().map(lambda target: target.key),
    phase=st.sampled_from(SyncPhase),
    observed_generation=st.none() | st.integers(1, 10**6),
    downstream_status=st.none() | st.dictionaries(st.text(max_size=8), json_values, max_size=3),
    conditions=st.lists(
        st.dictionaries(st.text(max_size=8), json_values, max_size=3), max_size=2
    ).map(tuple),
    last_sync_time=st.none() | st.just("2026-11-25T10:00:00Z"),
)


@given(records)
def test_sync_status_record_round_trips_through_its_object(record: SyncStatusRecord) -> None:
    obj = record.to_object()
    assert SyncStatusRecord.from_object(obj) == record
    assert len(obj["metadata"]["name"]) <= 253
    assert obj["metadata"]["labels"]["workload.kcp.io/sync-target-key"] == record.target_key
    assert obj["metadata"]["ownerReferences"][0]["uid"] == record.workload.uid
