"""The pytest entry point: options with their ini twins, markers, the e2e switch, the header.

Kept thin on purpose: importing it must stay cheap, and nothing starts in
``pytest_configure``, so ``pytest --help`` and ``--collect-only`` cost nothing. The fixtures
live in ``harness/fixtures.py``, registered here; they import the harness when first used.
"""

from __future__ import annotations

import pytest

from pytest_syncer.harness.config import OPTIONS, HarnessConfig, HarnessConfigError, resolve

E2E_MARKER = "syncer_e2e"
TARGETS_MARKER = "syncer_targets"
CONFIG_KEY = pytest.StashKey[HarnessConfig]()


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
    for option in OPTIONS:
        group.addoption(
            option.flag,
            dest=option.ini,
            default=None,
            help=f"{option.help} (ini: {option.ini}).",
        )
        parser.addini(option.ini, option.help, default=None)


def e2e_enabled(config: pytest.Config) -> bool:
    """The command line wins over the ini file."""
    option = config.getoption("--syncer-e2e")
    return bool(config.getini("syncer_e2e") if option is None else option)


def harness_config(config: pytest.Config) -> HarnessConfig:
    """The checked `--syncer-*` settings of this run."""
    return config.stash[CONFIG_KEY]


def _read_config(config: pytest.Config) -> HarnessConfig:
    values: dict[str, str | None] = {}
    explicit: set[str] = set()
    for option in OPTIONS:
        given = config.getoption(option.ini)
        if given is None:
            ini = config.getini(option.ini)
            given = ini if ini else None
        if given is not None:
            explicit.add(option.ini)
        values[option.ini] = given
    try:
        return resolve(values, explicit)
    except HarnessConfigError as error:
        raise pytest.UsageError(str(error)) from None


def pytest_configure(config: pytest.Config) -> None:
    config.stash[CONFIG_KEY] = _read_config(config)
    config.addinivalue_line(
        "markers",
        f"{E2E_MARKER}: an end-to-end test against real syncer processes; "
        "runs only with --syncer-e2e",
    )
    config.addinivalue_line(
        "markers",
        f"{TARGETS_MARKER}(n): give the test the environment of n sync targets "
        "(built once per size, shared by every test of that size)",
    )
    if not config.pluginmanager.has_plugin("syncer-fixtures"):
        from pytest_syncer.harness import fixtures

        config.pluginmanager.register(fixtures, "syncer-fixtures")


def pytest_report_header(config: pytest.Config) -> list[str]:
    if not e2e_enabled(config):
        return []
    settings = harness_config(config)
    syncer = settings.command or "reference syncer, pooled"
    return [
        f"syncer: provider {settings.provider}, {settings.targets} targets, {syncer}, "
        f"timeout {settings.timeout:g}s, seed {settings.seed}"
    ]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from pytest_syncer.harness.fixtures import SUMMARY_KEY

    built = terminalreporter.config.stash.get(SUMMARY_KEY, [])
    if built:
        terminalreporter.write_sep("-", "syncer environments")
        for line in built:
            terminalreporter.write_line(line)


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
