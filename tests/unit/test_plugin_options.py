"""Self-tests of the plugin's options and markers through pytester."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

TESTS = """
import pytest

@pytest.mark.syncer_e2e
def test_end_to_end():
    pass

def test_plain():
    pass
"""


def test_e2e_tests_are_skipped_without_the_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(TESTS)
    result = pytester.runpytest("-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*run it with pytest --syncer-e2e*"])


def test_syncer_e2e_runs_only_the_e2e_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(TESTS)
    result = pytester.runpytest("--syncer-e2e")
    result.assert_outcomes(passed=1, deselected=1)


def test_ini_twin_enables_e2e(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nsyncer_e2e = true\n")
    pytester.makepyfile(TESTS)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, deselected=1)


def test_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.syncer_e2e:*--syncer-e2e*"])
