"""The pytest entry point: options with their ini twins, markers, the e2e switch, the header,
the summary, a failing test's artifacts and the sweep of a crashed run's leftovers.

Kept thin on purpose: importing it must stay cheap, and nothing starts in
``pytest_configure``, so ``pytest --help`` and ``--collect-only`` cost nothing. The fixtures
live in ``harness/fixtures.py``, registered here; they import the harness when first used.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from pytest_syncer.harness.config import OPTIONS, HarnessConfig, HarnessConfigError, resolve
from pytest_syncer.harness.fixtures import CONFIG_KEY, CONTEXT_KEY, harness_config, session_report
from pytest_syncer.harness.session_report import SHARED_INPUT, WORKER_OUTPUT

E2E_MARKER = "syncer_e2e"
TARGETS_MARKER = "syncer_targets"
SHARED_KEY = pytest.StashKey[Path]()
"""The controller's directory of environments shared by its xdist workers."""


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_syncer.harness import hooks

    pluginmanager.add_hookspecs(hooks)


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
        return resolve(values, explicit, config.rootpath)
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
    config.addinivalue_line(
        "markers",
        "conformance(*ids): the conformance behaviours this test shows (IDs in "
        "pytest_syncer/harness/conformance/behaviours.py; {param} is filled from parameters)",
    )
    if e2e_enabled(config) and not config.pluginmanager.has_plugin("syncer-conformance"):
        from pytest_syncer.harness.conformance.plugin import ConformancePlugin

        config.pluginmanager.register(ConformancePlugin(config), "syncer-conformance")
    if not config.pluginmanager.has_plugin("syncer-fixtures"):
        from pytest_syncer.harness import fixtures

        config.pluginmanager.register(fixtures, "syncer-fixtures")


def pytest_report_header(config: pytest.Config) -> list[str]:
    if not e2e_enabled(config):
        return []
    settings = harness_config(config)
    syncer = settings.command or "reference syncer, pooled"
    line = (
        f"syncer: provider {settings.provider}, {settings.targets} targets, {syncer}, "
        + (
            f"{settings.apiservers} API server process{'es' if settings.apiservers > 1 else ''}, "
            if settings.provider == "embedded"
            else ""
        )
        + f"timeout {settings.timeout:g}s, seed {settings.seed}"
    )
    if settings.crds:
        shown = (os.path.relpath(path, config.rootpath) for path in settings.crds)
        line += f", CRDs from {', '.join(shown)}"
    if settings.network_faults:
        line += ", network faults on"
        latency, jitter = settings.network_latency
        if latency or jitter:
            line += f" (latency {latency:g}+{jitter:g} ms)"
    return [line, settings.resync_line()]


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Remove what crashed runs left (the controller only, under pytest-xdist)."""
    if _is_worker(session.config):
        return
    from pytest_syncer.harness.leftovers import sweep

    removed = sweep()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for line in removed:
        if reporter is not None:
            reporter.write_line(f"syncer: {line}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing test that used an environment gets its artifacts: the log window and the
    objects its workloads touched, in the report, on disk and as JUnit XML properties."""
    report = yield
    context = item.stash.get(CONTEXT_KEY, None)
    if context is None or not report.failed:
        return report
    context.env.failed = True
    if report.when == "teardown":
        return report
    from pytest_syncer.harness.artifacts import collect

    try:
        artifacts = collect(
            context.env,
            context.window,
            context.factory,
            item.nodeid,
            context.artifacts_root,
            report.longreprtext,
        )
    except Exception as error:
        report.sections.append(
            ("syncer artifacts", f"could not collect: {type(error).__name__}: {error}")
        )
        return report
    report.sections += artifacts.sections
    try:
        extra = item.config.hook.pytest_syncer_failure_artifacts(
            item=item, env=context.env, directory=artifacts.directory
        )
    except Exception as error:
        extra = []
        report.sections.append(
            ("syncer artifacts hook", f"failed: {type(error).__name__}: {error}")
        )
    files = [*artifacts.files, *(Path(path) for paths in extra for path in paths)]
    properties = [("syncer_artifacts", str(artifacts.directory))]
    properties += [("syncer_artifact", str(path)) for path in files]
    item.user_properties += properties
    report.user_properties += properties
    session_report(item.config).artifacts.append(str(artifacts.directory))
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if _is_worker(config):
        output: dict[str, Any] = config.workeroutput  # type: ignore[attr-defined]
        output[WORKER_OUTPUT] = session_report(config).to_dict()
    elif SHARED_KEY in config.stash:
        from pytest_syncer.harness.sharing import finish_shared

        settings = harness_config(config)
        kept, stats = finish_shared(
            config.stash[SHARED_KEY], settings.keep, session.testsfailed > 0
        )
        report = session_report(config)
        report.kept += kept
        report.stats.merge(stats)
        if settings.keep != "never" and not kept:
            shutil.rmtree(config.stash[SHARED_KEY], ignore_errors=True)


def _shared_directory(config: pytest.Config) -> Path:
    """Made once: under the basetemp, or under the runs root when it may be kept."""
    if SHARED_KEY not in config.stash:
        from pytest_syncer.harness.leftovers import runs_root

        if harness_config(config).keep == "never":
            factory: pytest.TempPathFactory = config._tmp_path_factory  # type: ignore[attr-defined]
            directory = factory.mktemp("syncer-shared", numbered=False)
        else:
            root = runs_root()
            root.mkdir(parents=True, exist_ok=True)
            directory = Path(tempfile.mkdtemp(prefix=f"shared-{os.getpid()}-", dir=root))
        config.stash[SHARED_KEY] = directory
    return config.stash[SHARED_KEY]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Under `--syncer-xdist shared`, tell each worker where the shared environments live."""
    if harness_config(node.config).xdist == "shared":
        node.workerinput[SHARED_INPUT] = {
            "directory": str(_shared_directory(node.config)),
            "owner": os.getpid(),
        }


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """A pytest-xdist worker finished: its environments' figures join the controller's."""
    data = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
    if data is not None:
        session_report(node.config).merge(data, node.gateway.id)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    config = terminalreporter.config
    report = session_report(config)
    if not (report.used or report.kept):
        return
    terminalreporter.write_sep("-", "syncer")
    lines = list(report.built)
    if report.used:
        lines += report.stats.summary_lines()
    if report.artifacts:
        lines.append(f"artifacts of {len(report.artifacts)} failing tests:")
        lines += [f"  {directory}" for directory in report.artifacts]
    lines += report.kept
    for extra in config.hook.pytest_syncer_summary(config=config, stats=report.stats):
        lines += extra
    for line in lines:
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
