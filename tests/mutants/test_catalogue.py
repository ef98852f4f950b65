"""The catalogue itself, without starting anything: every mutant names known behaviours and
existing e2e tests, and the per-change subset stays small."""

from __future__ import annotations

from pathlib import Path

from pytest_syncer.harness.conformance.behaviours import BY_ID
from tests.mutants.catalogue import MUTANTS

E2E = Path(__file__).resolve().parents[1] / "e2e"


def test_each_mutant_names_known_behaviours_and_existing_tests() -> None:
    assert len(MUTANTS) >= 15
    for mutant in MUTANTS.values():
        assert mutant.behaviours, mutant.name
        for behaviour in mutant.behaviours:
            assert behaviour in BY_ID or behaviour.startswith("slo."), behaviour
        for test in mutant.tests:
            path, _, function = test.partition("::")
            source = (E2E / path).read_text()
            assert not function or f"def {function.split('[')[0]}(" in source, test


def test_the_per_change_subset_is_three_mutants() -> None:
    assert sum(mutant.fast for mutant in MUTANTS.values()) == 3
