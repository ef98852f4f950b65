"""`python tests/mutants/run.py MUTANT SYNCER-ARGS...`: the reference syncer with one mutant
applied in this process, started the way `--syncer-command` starts any syncer."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pytest_syncer.cli import main
from tests.mutants.catalogue import MUTANTS

CONTROL = "none"
"""The name that applies no mutant: the control run of the same tests."""


def run(argv: list[str]) -> int:
    name, *args = argv
    if name != CONTROL:
        args = MUTANTS[name].patch(args)
    return main(["syncer", *args])


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))
