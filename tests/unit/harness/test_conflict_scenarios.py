"""The conflict scenarios see the syncer decide before they judge the copy below, and judge
it over a window: a state that is right on the first look but does not stay fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_syncer.data import shipped
from pytest_syncer.harness.conflicts import (
    ConflictScenario,
    Decision,
    load_scenarios,
    written_content,
)
from pytest_syncer.harness.waiting import WaitTimeout
from pytest_syncer.harness.waits import hold

FIXTURES = shipped("conflicts")


def test_hold_fails_at_the_first_poll_the_state_is_gone() -> None:
    seen = iter([[], [], ["data.mode: expected 'foreign', had 'production'"]])
    with pytest.raises(AssertionError, match=r"held for 2 polls, then poll 3 had:\n.*foreign"):
        hold("the foreign object", lambda: next(seen), lambda: False, timeout=5, interval=0)


def test_hold_lasts_until_the_window_closes_and_the_polls_are_made() -> None:
    closes = iter([False, False, True])
    assert hold("x", list, lambda: next(closes), timeout=5, polls=2, interval=0) == 4


def test_a_window_that_never_closes_fails() -> None:
    with pytest.raises(WaitTimeout, match="never closed"):
        hold("x", list, lambda: False, timeout=0.05, polls=1, interval=0.01)


def test_every_scenario_names_the_decision_it_waits_for() -> None:
    scenarios = load_scenarios(FIXTURES)
    assert all(scenario.decision.reason for scenario in scenarios)
    by_name = {scenario.name: scenario for scenario in scenarios}
    assert by_name["abort-drift"].inject == "drift"
    assert by_name["abort-drift"].decision == Decision(
        "Conflict", "abort: the copy below differs in data.mode; left as it is"
    )


def test_a_scenario_without_a_decision_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lazy.yaml"
    path.write_text("workload: configmap.yaml\nstrategy: abort\ninject: drift\n")
    with pytest.raises(ValueError, match=r"decision\.reason must name the Event"):
        ConflictScenario.from_file(path)


def test_a_decision_matches_its_reason_and_message() -> None:
    decision = Decision("Conflict", "abort: a foreign object")
    assert decision.matches({"reason": "Conflict", "message": "t1: abort: a foreign object (x)"})
    assert not decision.matches({"reason": "Conflict", "message": "t1: abort: the copy below"})
    assert not decision.matches({"reason": "DriftReverted", "message": "abort: a foreign object"})


def test_what_a_write_changes_leaves_out_status_and_the_version() -> None:
    first = {"metadata": {"name": "web", "resourceVersion": "7"}, "spec": {"replicas": 7}}
    simulated = {**first, "metadata": {"name": "web", "resourceVersion": "8"}, "status": {}}
    reverted = {**first, "spec": {"replicas": 2}}
    assert written_content(simulated) == written_content(first)
    assert written_content(reverted) != written_content(first)
