"""docs/fixtures.md is the complete reference, and its examples are a test suite that runs
green in a directory of its own, written from the page alone."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from pytest_syncer.harness import fixtures, hooks
from pytest_syncer.harness.config import OPTIONS

DOC = Path(__file__).parents[3] / "docs" / "fixtures.md"
EXAMPLE = re.compile(r"<!-- example: (\S+) -->\n```\w+\n(.*?)```", re.S)


def examples() -> dict[str, str]:
    """The marked code blocks, concatenated per file in the order the page shows them."""
    files: dict[str, str] = {}
    for name, code in EXAMPLE.findall(DOC.read_text()):
        files[name] = files.get(name, "") + code + "\n"
    return files


def write_examples(directory: Path) -> dict[str, str]:
    """Write the page's examples into `directory`, as a user would from the page alone (CI
    also runs them there from an installed wheel)."""
    written = examples()
    for name, code in written.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code)
    return written


def test_every_option_fixture_marker_and_hook_is_documented() -> None:
    text = DOC.read_text()
    names = ["--syncer-e2e", "syncer_e2e", "syncer_targets(n)"]
    names += [option.flag for option in OPTIONS] + [option.ini for option in OPTIONS]
    names += [
        name
        for name, value in vars(fixtures).items()
        if type(value).__name__ == "FixtureFunctionDefinition"
    ]
    names += [
        name
        for name, value in vars(hooks).items()
        if name.startswith("pytest_syncer_") and inspect.isfunction(value)
    ]
    assert len(names) > 30
    missing = [name for name in names if f"`{name}" not in text]
    assert missing == []


def test_the_examples_import_only_the_public_face() -> None:
    """Everything but `pytest_syncer` and `pytest_syncer.strategies` is internal."""
    code = "\n".join(examples().values()) + "\n".join(
        re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    )
    imported = set(re.findall(r"(?:from|import) (pytest_syncer[\w.]*)", code))
    assert "pytest_syncer" in imported
    assert imported <= {"pytest_syncer", "pytest_syncer.strategies"}


def test_the_examples_run_green_in_a_new_directory(pytester: pytest.Pytester) -> None:
    written = write_examples(pytester.path)
    assert sorted(written) == [
        "conftest.py",
        "fixtures/crds/workloads/gadgets.example.com.yaml",
        "fixtures/workloads/web.yaml",
        "test_reference.py",
    ]
    tests = len(re.findall(r"^def test_", written["test_reference.py"], re.M))
    result = pytester.runpytest_subprocess("--syncer-e2e", "--syncer-targets=3")
    result.assert_outcomes(passed=tests)
    result.stdout.fnmatch_lines(["my figure: * copies timed"])
