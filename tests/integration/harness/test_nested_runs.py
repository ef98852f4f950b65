"""The contract test's nested run: a failing nested test's own message reaches the outer
failure, and a nested run that outlasts its budget is interrupted within it."""

from __future__ import annotations

import time

import pytest

from tests.e2e.nested import failures, outer_timeout, run_nested

pytest_plugins = ["pytester"]

NESTED = """
import time

def test_passes():
    pass

def test_fails_with_its_own_message():
    copy = {"mode": "hacked"}
    assert copy == {"mode": "production"}, "the copy below kept the drift on target-003"

def test_hangs_when_asked():
    import os
    if os.environ.get("HANG"):
        time.sleep(120)
"""


def test_a_hung_nested_test_fails_on_its_own_timeout(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_inner=NESTED)
    monkeypatch.setenv("HANG", "1")
    with pytest.raises(pytest.fail.Exception) as failed:
        run_nested(
            pytester, ["-p", "no:cacheprovider", "test_inner.py"], budget=120, test_timeout=3
        )
    message = str(failed.value)
    assert "test_inner::test_hangs_when_asked" in message
    assert "Timeout" in message
    assert "the copy below kept the drift on target-003" in message


def test_a_failing_nested_test_shows_its_own_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner=NESTED)
    with pytest.raises(pytest.fail.Exception) as failed:
        run_nested(pytester, ["-p", "no:cacheprovider", "test_inner.py"], budget=120)
    message = str(failed.value)
    assert "test_inner::test_fails_with_its_own_message" in message
    assert "the copy below kept the drift on target-003" in message
    assert "'hacked'" in message


def test_a_nested_run_over_its_budget_is_interrupted_within_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_inner=NESTED)
    monkeypatch.setenv("HANG", "1")
    started = time.monotonic()
    with pytest.raises(pytest.fail.Exception) as failed:
        run_nested(
            pytester, ["-p", "no:cacheprovider", "test_inner.py"], budget=8, test_timeout=300
        )
    assert time.monotonic() - started < 8 + 20
    message = str(failed.value)
    assert "exceeded its 8s budget" in message
    assert "the copy below kept the drift on target-003" in message
    assert "test_inner.py:13: KeyboardInterrupt" in message


def test_a_passing_nested_run_returns_its_output(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner="def test_passes():\n    pass\n")
    lines = run_nested(pytester, ["-p", "no:cacheprovider", "test_inner.py"], budget=120)
    pytest.LineMatcher(lines).fnmatch_lines(["* 1 passed*"])
    assert failures(pytester.path / "nested-junit.xml") == []


@pytest.mark.timeout(123)
def test_the_outer_timeout_is_the_tests_marker(request: pytest.FixtureRequest) -> None:
    assert outer_timeout(request.node) == 123
