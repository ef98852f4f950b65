"""Conversions between served and stored versions lose nothing either form can say."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.apiserver.api.conversion import (
    event_from_core,
    event_to_core,
    hpa_from_v2,
    hpa_to_v2,
)

_TEXT = st.text(min_size=1, max_size=8)
CORE_EVENTS = st.fixed_dictionaries(
    {"kind": st.just("Event"), "apiVersion": st.just("v1"), "metadata": st.just({"name": "e"})},
    optional={
        "message": _TEXT,
        "reason": _TEXT,
        "type": st.sampled_from(["Normal", "Warning"]),
        "involvedObject": st.fixed_dictionaries({"kind": _TEXT, "name": _TEXT}),
        "count": st.integers(min_value=1, max_value=99),
        "source": st.fixed_dictionaries({"component": _TEXT}),
        "reportingComponent": _TEXT,
        "reportingInstance": _TEXT,
        "action": _TEXT,
        "eventTime": st.just("2026-01-01T00:00:00.000000Z"),
        "firstTimestamp": st.just("2026-01-01T00:00:00Z"),
        "lastTimestamp": st.just("2026-01-01T00:00:01Z"),
    },
)


@given(CORE_EVENTS)
def test_core_events_survive_the_events_k8s_io_view(event: dict[str, Any]) -> None:
    assert event_to_core(event_from_core(event)) == event


@given(
    st.integers(min_value=1, max_value=100),
    st.integers(min_value=1, max_value=100),
    st.one_of(st.none(), st.integers(min_value=1, max_value=100)),
)
def test_hpa_v1_survives_v2(minimum: int, maximum: int, target: int | None) -> None:
    spec: dict[str, Any] = {
        "scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
        "minReplicas": minimum,
        "maxReplicas": maximum,
    }
    if target is not None:
        spec["targetCPUUtilizationPercentage"] = target
    v1 = {
        "kind": "HorizontalPodAutoscaler",
        "apiVersion": "autoscaling/v1",
        "metadata": {"name": "web"},
        "spec": spec,
    }
    assert hpa_from_v2(hpa_to_v2(v1)) == v1
