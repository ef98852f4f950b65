"""`pytest-syncer init`: a new user's repository gets a starter that pytest collects as it is,
and nothing of theirs is ever overwritten. (The starter's e2e tests run for real in CI, from an
installed wheel, in a folder outside the checkout.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_syncer.cli import main
from pytest_syncer.harness.init_command import EXAMPLE

pytest_plugins = ["pytester"]
README = Path(__file__).parents[3] / "README.md"
STARTER = [
    ".github/workflows/syncer-e2e.yml",
    "conftest.py",
    "pytest.ini",
    "tests/test_syncer_e2e.py",
]


def _files(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


def test_init_writes_the_starter_and_says_what(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path / "repo")]) == 0
    assert _files(tmp_path / "repo") == STARTER
    printed = capsys.readouterr().out
    for name in STARTER:
        assert f"wrote {tmp_path / 'repo' / name}\n" in printed
    for name in ("conftest.py", "tests/test_syncer_e2e.py"):
        compile((tmp_path / "repo" / name).read_text(), name, "exec")
    workflow = (tmp_path / "repo" / ".github/workflows/syncer-e2e.yml").read_text()
    assert "pytest --syncer-e2e" in workflow
    assert "actions/upload-artifact" in workflow


def test_an_existing_pytest_configuration_is_kept(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'mine'\n")
    assert main(["init", str(tmp_path)]) == 0
    assert "pytest.ini" not in _files(tmp_path)
    assert (tmp_path / "pyproject.toml").read_text() == "[project]\nname = 'mine'\n"


def test_init_refuses_to_overwrite_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "conftest.py").write_text("# mine\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_syncer_e2e.py").write_text("# mine too\n")
    assert main(["init", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert str(tmp_path / "conftest.py") in error
    assert str(tmp_path / "tests" / "test_syncer_e2e.py") in error
    assert "nothing written" in error
    assert _files(tmp_path) == ["conftest.py", "tests/test_syncer_e2e.py"]
    assert (tmp_path / "conftest.py").read_text() == "# mine\n"


def test_the_readme_example_is_the_starter_example() -> None:
    [block] = re.findall(
        r"```python\n(import pytest\n.*?def test_web_reaches_three_targets.*?)```",
        README.read_text(),
        re.S,
    )
    assert block in EXAMPLE


def test_the_starter_is_collected_and_skips_without_syncer_e2e(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pytest-asyncio, installed here, warns in a run whose ini leaves its loop scope unset.
    monkeypatch.setenv("PYTEST_ADDOPTS", "-o asyncio_default_fixture_loop_scope=function")
    assert main(["init", str(pytester.path)]) == 0
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*run it with pytest --syncer-e2e*"])
