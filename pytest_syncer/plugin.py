"""The pytest entry point: options with their ini twins, markers, and the e2e switch.

Kept thin on purpose: importing it must stay cheap, and nothing starts in
``pytest_configure``, so ``pytest --help`` and ``--collect-only`` cost nothing.
"""

from __future__ import annotations

import pytest

E2E_MARKER = "syncer_e2e"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("syncer", "multi-cluster syncer harness")
    group.addoption(
        "--syncer-e2e",
        action="store_true",
        default=None,
        help="run the end-to-end suite (tests marked syncer_e2e) and only that (ini: syncer_e2e).",
    )
    parser.addini(
        "syncer_e2e", "run the end-to-end suite and only that", type="bool", default=False
    )


def e2e_enabled(config: pytest.Config) -> bool:
    """The command line wins over the ini file."""
    option = config.getoption("--syncer-e2e")
    return bool(config.getini("syncer_e2e") if option is None else option)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{E2E_MARKER}: an end-to-end test against real syncer processes; "
        "runs only with --syncer-e2e",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With --syncer-e2e, deselect everything else; without it, skip e2e tests saying why."""
    if e2e_enabled(config):
        selected = [item for item in items if item.get_closest_marker(E2E_MARKER)]
        deselected = [item for item in items if not item.get_closest_marker(E2E_MARKER)]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = selected
        return
    skip = pytest.mark.skip(reason="end-to-end test: run it with pytest --syncer-e2e")
    for item in items:
        if item.get_closest_marker(E2E_MARKER):
            item.add_marker(skip)
