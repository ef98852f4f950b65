"""The conformance registry, report and service levels, from fixed inputs; and the e2e suite
names a test for every behaviour (collected, not run)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_syncer.harness.config import HarnessConfigError, resolve
from pytest_syncer.harness.conformance.behaviours import BEHAVIOURS, BY_ID, PROFILES, parse_profiles
from pytest_syncer.harness.conformance.report import (
    ConformanceReport,
    table_lines,
    to_html,
    to_json,
    write,
)
from pytest_syncer.harness.conformance.slo import Objective, evaluate, parse_slo
from pytest_syncer.harness.run_stats import RunStats

ROOT = Path(__file__).resolve().parents[3]


def test_ids_are_unique_and_each_profile_is_known() -> None:
    assert len(BY_ID) == len(BEHAVIOURS)
    assert {b.profile for b in BEHAVIOURS} == set(PROFILES)
    for behaviour in BEHAVIOURS:
        assert behaviour.id.startswith(behaviour.profile + ".")
        assert behaviour.statement
        assert "\n" not in behaviour.statement


def test_every_behaviour_has_an_e2e_test(pytester: pytest.Pytester) -> None:
    """Collected with --syncer-e2e: the IDs the markers name, parameters filled in, are the
    registry's, except those still awaiting their tests (which must then have none)."""
    from pytest_syncer.harness.conformance.keys import BEHAVIOURS_KEY

    items, _ = pytester.inline_genitems(
        str(ROOT / "tests" / "e2e"), "--syncer-e2e", f"--rootdir={ROOT}", "-p", "no:cacheprovider"
    )
    named = {behaviour for item in items for behaviour in item.stash[BEHAVIOURS_KEY]}
    awaiting = {b.id for b in BEHAVIOURS if b.awaiting}
    assert named | awaiting == set(BY_ID)
    assert not named & awaiting, "these have tests now: drop their `awaiting` note"


def test_profiles_parse_and_refuse_unknown_ones() -> None:
    assert parse_profiles(" core, status ") == ("core", "status")
    with pytest.raises(ValueError, match="among core"):
        parse_profiles("core,speed")


def test_slo_terms_parse_into_objectives() -> None:
    assert parse_slo("sync-p99=5s,status-p95=500ms") == (
        Objective("sync", 99, 5.0),
        Objective("status", 95, 0.5),
    )
    for bad in ("sync-p99=5", "latency-p99=5s", "sync-p100=1s", "sync=5s", ","):
        with pytest.raises(ValueError):
            parse_slo(bad)


def test_slo_verdicts_from_fixed_figures() -> None:
    stats = RunStats(latencies={"target-000": [0.1] * 98 + [4.0, 6.0]}, status_latencies=[])
    sync99, sync50, status = evaluate(parse_slo("sync-p99=5s,sync-p50=1s,status-p99=2s"), stats)
    assert (sync99.result, sync50.result, status.result) == ("passed", "passed", "skipped")
    [over] = evaluate(parse_slo("sync-p100=1s".replace("100", "99.5")), stats)
    assert over.result == "failed"
    assert over.why == "sync p99.5 was 6.00s over 100 measurements; the objective is at most 1s"


def test_config_reads_the_conformance_options(tmp_path: Path) -> None:
    config = resolve(
        {
            "syncer_profile": "faults",
            "syncer_report": str(tmp_path / "r.json"),
            "syncer_slo": "sync-p99=5s",
        },
        set(),
    )
    assert (config.profiles, config.report, config.slo) == (
        ("faults",),
        tmp_path / "r.json",
        (Objective("sync", 99, 5.0),),
    )
    with pytest.raises(HarnessConfigError, match="HTML page is written beside it"):
        resolve({"syncer_report": "r.html"}, set())
    with pytest.raises(HarnessConfigError, match="--syncer-slo"):
        resolve({"syncer_slo": "sync-p99=fast"}, set())


def report(nodeid: str, when: str, outcome: str, ids: str, **extra: Any) -> SimpleNamespace:
    """The fields of a pytest TestReport the conformance report reads."""
    props = [("conformance", ids), *extra.pop("props", [])]
    return SimpleNamespace(
        nodeid=nodeid,
        when=when,
        outcome=outcome,
        passed=outcome == "passed",
        failed=outcome == "failed",
        skipped=outcome == "skipped",
        duration=1.5,
        user_properties=props,
        longrepr=extra.pop("longrepr", None),
    )


def crash(message: str) -> SimpleNamespace:
    return SimpleNamespace(reprcrash=SimpleNamespace(message=message))


def test_a_behaviour_fails_when_any_of_its_tests_fails() -> None:
    conformance = ConformanceReport(
        [BY_ID["core.placement"], BY_ID["core.update"], BY_ID["tunnel.reach"]]
    )
    conformance.record(report("t::a", "setup", "passed", "core.placement core.update"))
    conformance.record(report("t::a", "call", "passed", "core.placement core.update"))
    failure = "timed out after 60s waiting for ConfigMap synced\n1 of 3 targets differ:"
    conformance.record(
        report(
            "t::b",
            "call",
            "failed",
            "core.update",
            longrepr=crash(failure),
            props=[("syncer_artifacts", "/tmp/artifacts/t-b")],
        )
    )
    teardown = report(
        "t::b",
        "teardown",
        "passed",
        "core.update",
        props=[("syncer_artifacts", "/tmp/artifacts/t-b")],
    )
    conformance.record(teardown)  # the item's properties come again: listed once
    placement, update, tunnel = conformance.rows()
    assert (placement.result, placement.why, placement.duration) == ("passed", "", 3.0)
    assert update.duration == 3.0 + 1.5 + 1.5
    assert (update.result, update.why) == (
        "failed",
        "timed out after 60s waiting for ConfigMap synced",
    )
    assert update.tests[1].artifacts == ["/tmp/artifacts/t-b"]
    assert (tunnel.result, tunnel.why) == ("not run", "not selected")
    lines = table_lines([placement, update, tunnel])
    assert lines[2].split()[:2] == ["core.update", "failed"]
    assert lines[-1] == "conformance: 1 failed, 1 passed, 1 not run of 3 behaviours"
    document = to_json([placement, update, tunnel])
    assert document["behaviours"][1]["tests"][1]["why"] == failure


def test_the_html_page_has_a_row_per_behaviour_and_escapes_the_failure(tmp_path: Path) -> None:
    conformance = ConformanceReport()
    conformance.record(
        report("t::x", "call", "failed", "core.placement", longrepr=crash("expected <b>'a'</b>"))
    )
    json_path, html_path = write(tmp_path / "out" / "report.json", conformance.rows(), "title")
    assert html_path == tmp_path / "out" / "report.html"
    page = html_path.read_text()
    for behaviour in BEHAVIOURS:
        assert f"id='behaviour-{behaviour.id}'" in page
    assert "expected &lt;b&gt;" in page
    assert "<b>'a'</b>" not in page
    assert "http" not in to_html([], "t").replace("<!DOCTYPE html>", "")
    assert json.loads(json_path.read_text())["behaviours"][0]["result"] == "failed"
