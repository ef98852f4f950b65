"""The per-target diff a timed-out wait prints."""

from __future__ import annotations

import pytest

from pytest_syncer.harness.waiting import WaitTimeout
from pytest_syncer.harness.waits import Observation, differences, poll


def test_subset_matches_ignore_extra_fields() -> None:
    assert differences({"spec": {"replicas": 2}}, {"spec": {"replicas": 2, "paused": False}}) == []


def test_each_differing_path_is_one_line() -> None:
    lines = differences(
        {"spec": {"replicas": 3, "template": {"image": "a"}}, "data": {"k": "v"}},
        {"spec": {"replicas": 2, "template": {"image": "a"}}},
    )
    assert lines == ["spec.replicas: expected 3, had 2", "data: expected {'k': 'v'}, had nothing"]


def test_lists_of_other_lengths_compare_whole() -> None:
    assert differences({"ports": [1, 2]}, {"ports": [1]}) == ["ports: expected [1, 2], had [1]"]


def test_conditions_match_by_type_as_subsets() -> None:
    had = {
        "conditions": [
            {"type": "Progressing", "status": "True"},
            {"type": "Available", "status": "True", "message": "all 3 targets"},
        ]
    }
    assert differences({"conditions": [{"type": "Available", "status": "True"}]}, had) == []
    assert differences({"conditions": [{"type": "Available", "status": "False"}]}, had) == [
        "conditions[type=Available].status: expected 'False', had 'True'"
    ]
    assert differences({"conditions": [{"type": "Ready", "status": "True"}]}, had) == [
        "conditions[type=Ready]: expected {'type': 'Ready', 'status': 'True'}, had nothing"
    ]


def test_list_items_compare_as_subsets_so_server_defaults_do_not_count() -> None:
    containers = [{"name": "web", "image": "nginx:1.27"}]
    defaulted = [{"name": "web", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent"}]
    assert differences({"containers": containers}, {"containers": defaulted}) == []
    assert differences({"c": [{"image": "a"}]}, {"c": [{"image": "b", "x": 1}]}) == [
        "c[0].image: expected 'a', had 'b'"
    ]


def test_object_expected_where_a_scalar_is() -> None:
    assert differences({"spec": {"a": 1}}, {"spec": "x"}) == ["spec: expected an object, had 'x'"]


def test_observation_lists_failing_targets_and_counts_the_rest() -> None:
    seen = Observation("w", checked=12)
    seen.per_target = {f"t{i:02d}": [f"data.k: expected 'v', had '{i}'"] for i in range(10)}
    seen.per_target.update({"t10": [], "t11": []})
    text = repr(seen)
    assert "10 of 12 targets differ:" in text
    assert "  t00:\n    - data.k: expected 'v', had '0'" in text
    assert "... and 2 more" in text
    assert "t09" not in text


def test_poll_timeout_names_what_and_each_target() -> None:
    with pytest.raises(WaitTimeout) as timed_out:
        poll(
            "the copies",
            ["a", "b"],
            lambda name: [] if name == "a" else ["spec.replicas: expected 3, had 2"],
            timeout=0.2,
            interval=0.05,
        )
    message = str(timed_out.value)
    assert "waiting for the copies" in message
    assert "1 of 2 targets differ:\n  b:\n    - spec.replicas: expected 3, had 2" in message


def test_poll_reports_errors_per_target() -> None:
    def check(name: str) -> list[str]:
        raise ConnectionError(f"{name} unreachable")

    with pytest.raises(WaitTimeout, match="could not look: ConnectionError: a unreachable"):
        poll("x", ["a"], check, timeout=0.1, interval=0.05)
