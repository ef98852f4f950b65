"""Each broken syncer of the catalogue, put under test through `--syncer-command`, must make the
conformance tests named for it fail on exactly the behaviours it breaks; the unbroken control
must pass the same tests. Each run is a nested pytest at 3 targets with a short wait deadline
(a caught mutant fails at a wait's deadline)."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.mutants.catalogue import MUTANTS
from tests.mutants.run import CONTROL

pytestmark = pytest.mark.syncer_e2e

ROOT = Path(__file__).resolve().parents[2]
E2E = ROOT / "tests" / "e2e"
RUN = Path(__file__).resolve().parent / "run.py"
SYNCER_ARGS = (
    "--upstream-kubeconfig {upstream_kubeconfig} --downstream-kubeconfig {downstream_kubeconfig} "
    "--sync-target {target} --upstream-cluster {upstream_cluster} --tunnel-url {tunnel_url} "
    "--tunnel-token-file {tunnel_token_file} --tunnel-ca-file {tunnel_ca_file} "
    "--resources {resources} --heartbeat-interval 1 --namespace-cleanup-delay 1"
)
WAIT_DEADLINE = "15"
"""Seconds: the reference syncer needs far less at 3 targets, a mutant never gets there."""


def command(name: str) -> str:
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(RUN))} {name} {SYNCER_ARGS}"


def conformance_run(
    pytester: pytest.Pytester, name: str, tests: list[str], *options: str
) -> tuple[pytest.RunResult, dict[str, dict[str, Any]]]:
    report = pytester.path / f"{name}.json"
    result = pytester.runpytest_subprocess(
        *(str(E2E / test) for test in tests),
        "--syncer-e2e",
        "--syncer-targets=3",
        f"--syncer-command={command(name)}",
        f"--syncer-timeout={WAIT_DEADLINE}",
        f"--syncer-report={report}",
        f"--rootdir={ROOT}",
        "-p",
        "no:cacheprovider",
        *options,
    )
    rows = {row["id"]: row for row in json.loads(report.read_text())["behaviours"]}
    return result, rows


@pytest.mark.mutants_fast
def test_the_unbroken_syncer_passes_every_mutants_tests(pytester: pytest.Pytester) -> None:
    tests = sorted({test for mutant in MUTANTS.values() for test in mutant.tests})
    result, rows = conformance_run(pytester, CONTROL, tests)
    failed = {row["id"]: row["why"] for row in rows.values() if row["result"] == "failed"}
    assert not failed, result.stdout.str()
    assert result.ret == pytest.ExitCode.OK


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=[pytest.mark.mutants_fast] if mutant.fast else [])
        for name, mutant in MUTANTS.items()
    ],
)
def test_each_mutant_is_caught_by_the_behaviours_it_breaks(
    pytester: pytest.Pytester, mutation_score: dict[str, bool], name: str
) -> None:
    mutant = MUTANTS[name]
    result, rows = conformance_run(pytester, name, list(mutant.tests), *mutant.options)
    results = {behaviour: rows[behaviour]["result"] for behaviour in mutant.behaviours}
    mutation_score[name] = all(outcome == "failed" for outcome in results.values())
    reasons = {behaviour: rows[behaviour]["why"] for behaviour in mutant.behaviours}
    assert mutation_score[name], (
        f"{name} ({mutant.breaks}) was not caught: {results}; reasons {reasons}\n"
        + result.stdout.str()
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
