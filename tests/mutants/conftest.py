"""The mutation score: which mutants the conformance tests caught, printed after the run."""

from __future__ import annotations

import pytest

SCORE_KEY = pytest.StashKey[dict[str, bool]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "mutants_fast: the mutants CI runs on every change (the rest under --syncer-e2e)"
    )
    config.stash[SCORE_KEY] = {}


@pytest.fixture
def mutation_score(pytestconfig: pytest.Config) -> dict[str, bool]:
    """Each mutant run records whether it was caught."""
    return pytestconfig.stash[SCORE_KEY]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    score = terminalreporter.config.stash.get(SCORE_KEY, {})
    if not score:
        return
    caught = sorted(name for name, ok in score.items() if ok)
    missed = sorted(name for name, ok in score.items() if not ok)
    terminalreporter.write_sep("-", "mutants")
    terminalreporter.write_line(f"mutation score: {len(caught)}/{len(score)} caught")
    if missed:
        terminalreporter.write_line(f"not caught: {', '.join(missed)}")
