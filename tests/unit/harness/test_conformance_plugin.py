"""The conformance table, report files, profiles and service levels through pytest itself, on
tests that start no environment: their figures are fixed (recorded by the test), so nothing is
timed."""

from __future__ import annotations

import json

import pytest

TESTS = """
import pytest
from pytest_syncer.harness.fixtures import session_report

pytestmark = pytest.mark.syncer_e2e


@pytest.mark.conformance("core.placement")
def test_placed(request):
    report = session_report(request.config)
    report.used = True
    report.stats.record_latency("target-000", 3.0)


@pytest.mark.conformance("tunnel.allow-list")
def test_allow_list():
    assert 200 == 403, "the syncer's end let /metrics through"
"""


def test_a_failing_service_level_has_its_row_and_fails_the_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fixed=TESTS)
    report = pytester.path / "out" / "conformance.json"
    result = pytester.runpytest(
        "--syncer-e2e",
        "--syncer-slo=sync-p99=1s",
        f"--syncer-report={report}",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=1, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*conformance: service levels p99 of sync latency*at most 1s",
            "*syncer conformance*",
            "core.placement * passed *",
            "tunnel.allow-list * failed * AssertionError: the syncer's end let /metrics through",
            "slo.sync-p99 * failed * sync p99 was 3.00s over 1 measurements; the objective is *1s",
            "conformance: 2 failed, 1 passed, * not run of * behaviours",
        ]
    )
    rows = {row["id"]: row for row in json.loads(report.read_text())["behaviours"]}
    assert rows["slo.sync-p99"]["result"] == "failed"
    assert "the syncer's end let /metrics through" in rows["tunnel.allow-list"]["tests"][0]["why"]
    assert (pytester.path / "out" / "conformance.html").is_file()


def test_a_met_service_level_leaves_the_run_green(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fixed=TESTS)
    result = pytester.runpytest(
        "--syncer-e2e", "--syncer-slo=sync-p99=10s", "-k", "placed", "-p", "no:cacheprovider"
    )
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["slo.sync-p99 * passed *"])


def test_a_profile_deselects_the_other_tests_and_says_so(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fixed=TESTS)
    result = pytester.runpytest("--syncer-e2e", "--syncer-profile=core", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, deselected=1)
    result.stdout.fnmatch_lines(["conformance: profiles core only; the tests of the others *"])
    assert "tunnel.allow-list" not in result.stdout.str()


def test_an_unknown_behaviour_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.syncer_e2e
        @pytest.mark.conformance("core.teleport")
        def test_x():
            pass
        """
    )
    result = pytester.runpytest("--syncer-e2e", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown conformance behaviour 'core.teleport'*"])
