"""Plugins the whole suite uses: ``pytester`` runs pytest inside tests of the plugin and harness.

Enabled here once; pytest honours ``pytest_plugins`` only in the root conftest.
"""

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester, with the inner runs setting pytest-asyncio's fixture loop scope as this
    suite's ini does: their ini files are the tests' own, and without it pytest-asyncio warns
    in each of them. (pytester clears PYTEST_ADDOPTS when it starts, so this is set after.)"""
    monkeypatch.setenv("PYTEST_ADDOPTS", "-o asyncio_default_fixture_loop_scope=function")
    return pytester
