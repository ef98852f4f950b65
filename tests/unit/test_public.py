"""The public face: `pytest_syncer` re-exports what a user of the fixtures needs, lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

import pytest_syncer


def test_every_public_name_resolves() -> None:
    missing = [name for name in pytest_syncer.__all__ if not hasattr(pytest_syncer, name)]
    assert missing == []


def test_the_names_the_docs_promise_are_public() -> None:
    for name in ("SyncerEnvironment", "WorkloadFactory", "wait_until", "WaitTimeout"):
        assert name in pytest_syncer.__all__
    from pytest_syncer import SyncerEnvironment, WorkloadFactory, wait_until

    assert SyncerEnvironment.__name__ == "SyncerEnvironment"
    assert WorkloadFactory.__name__ == "WorkloadFactory"
    assert callable(wait_until)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        pytest_syncer.NoSuchThing  # noqa: B018


def test_importing_the_package_imports_nothing_else_of_it() -> None:
    """The plugin imports the package at every pytest start: it must stay cheap."""
    code = (
        "import sys, pytest_syncer; "
        "print(sorted(m for m in sys.modules if m.startswith('pytest_syncer.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_version_is_a_string() -> None:
    assert isinstance(pytest_syncer.__version__, str)
    assert pytest_syncer.__version__
