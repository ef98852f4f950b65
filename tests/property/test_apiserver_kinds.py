"""The per-kind transforms (defaults, server-set fields, immutability, stringData) as properties.

Over generated objects of every built-in kind the strategies make, and over arbitrary JSON in
their place: a transform never mutates its input, never raises, is idempotent (defaulting a
defaulted object changes nothing), never overrides a value the client gave, and an update that
repeats the stored object is never refused as an immutable-field change.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_syncer import strategies as k8s
from pytest_syncer.apiserver.api.kinds import immutable_field_errors, on_write, server_set
from pytest_syncer.apiserver.api.kinds.defaults import DEFAULTERS

BUILT_IN = st.one_of(
    k8s.configmaps(),
    k8s.secrets(),
    k8s.services(),
    k8s.deployments(),
    k8s.statefulsets(),
    k8s.jobs(),
    k8s.ingresses(),
)
KINDS = sorted(DEFAULTERS)
SLOW_OBJECTS = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
"""Whole objects of every kind are slow to draw; the check is about the transforms."""
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=5)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "spec",
                    "template",
                    "containers",
                    "ports",
                    "type",
                    "selector",
                    "strategy",
                    "stringData",
                    "data",
                    "metadata",
                    "labels",
                    "name",
                    "volumes",
                    "status",
                ]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


def _group_kind(obj: dict[str, Any]) -> tuple[str, str]:
    api_version = str(obj.get("apiVersion", ""))
    group = api_version.rpartition("/")[0]
    return group, str(obj["kind"])


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], Any]:
    if isinstance(value, dict) and value:
        found: dict[tuple[Any, ...], Any] = {}
        for key, child in value.items():
            found.update(_leaves(child, (*path, key)))
        return found
    if isinstance(value, list) and value:
        found = {}
        for index, child in enumerate(value):
            found.update(_leaves(child, (*path, index)))
        return found
    return {path: value}


@SLOW_OBJECTS
@given(BUILT_IN)
def test_defaulting_is_idempotent_and_never_mutates(obj: dict[str, Any]) -> None:
    group, kind = _group_kind(obj)
    frozen = copy.deepcopy(obj)
    once = on_write(group, kind, obj)
    assert obj == frozen
    assert on_write(group, kind, once) == once


@SLOW_OBJECTS
@given(BUILT_IN)
def test_defaulting_keeps_every_value_the_client_gave(obj: dict[str, Any]) -> None:
    """Defaults only fill gaps (``stringData`` aside, which is folded into ``data``)."""
    group, kind = _group_kind(obj)
    given_leaves = _leaves({k: v for k, v in obj.items() if k != "stringData"})
    defaulted = _leaves(on_write(group, kind, obj))
    for path, value in given_leaves.items():
        if value in (None, "", {}, [], 0) or path[:2] == ("spec", "sessionAffinityConfig"):
            continue  # Go's zero values are gaps; affinity None drops its config
        if (
            path[:1] == ("data",)
            and kind == "Secret"
            and path[1:2]
            and path[1] in (obj.get("stringData") or {})
        ):
            continue
        assert defaulted.get(path, value) == value, path


@given(st.sampled_from(KINDS), JSON)
def test_defaulting_is_total_over_any_json(group_kind: tuple[str, str], body: Any) -> None:
    obj = body if isinstance(body, dict) else {"spec": body}
    frozen = copy.deepcopy(obj)
    on_write(*group_kind, obj)
    assert obj == frozen


@SLOW_OBJECTS
@given(BUILT_IN)
def test_repeating_the_stored_object_is_never_an_immutable_change(obj: dict[str, Any]) -> None:
    group, kind = _group_kind(obj)
    stored = on_write(group, kind, obj)
    assert immutable_field_errors(group, kind, copy.deepcopy(stored), stored) == []


@given(st.sampled_from(KINDS), JSON, JSON)
def test_immutability_checks_are_total(group_kind: tuple[str, str], new: Any, old: Any) -> None:
    new = new if isinstance(new, dict) else {"spec": new}
    old = old if isinstance(old, dict) else {"spec": old}
    immutable_field_errors(*group_kind, new, old)


@given(st.dictionaries(st.text(min_size=1, max_size=5), st.text(max_size=10), max_size=4))
def test_string_data_lands_base64_in_data_and_is_gone(strings: dict[str, str]) -> None:
    secret = on_write("", "Secret", {"kind": "Secret", "stringData": strings})
    assert "stringData" not in secret
    decoded = {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}
    assert decoded == strings


@SLOW_OBJECTS
@given(k8s.services(upstream=False), st.sets(st.integers(30000, 32767), max_size=50))
def test_allocation_never_hands_out_a_taken_address_or_port(
    service: dict[str, Any], ports: set[int]
) -> None:
    spec = {k: v for k, v in service["spec"].items() if k not in ("clusterIP", "clusterIPs")}
    for port in spec.get("ports", []):
        port.pop("nodePort", None)
    taken = {"10.96.0.10", "10.96.0.11"}
    allocated, refused = server_set.allocate_service({**service, "spec": spec}, taken, ports)
    assert refused == []
    address = allocated["spec"].get("clusterIP")
    if spec.get("type") != "ExternalName":
        assert address not in taken
        assert allocated["spec"]["clusterIPs"] == [address]
    node_ports = [p.get("nodePort") for p in allocated["spec"].get("ports", [])]
    assert not set(node_ports) & ports
