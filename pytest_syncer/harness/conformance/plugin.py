"""The conformance hooks, registered by the plugin under `--syncer-e2e`: resolve each test's
behaviours, run a subset of profiles, hand results to the report, check the service levels and
print and write the report."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from pytest_syncer.harness.conformance.behaviours import BY_ID, MARKER
from pytest_syncer.harness.conformance.keys import BEHAVIOURS_KEY
from pytest_syncer.harness.conformance.report import (
    PROPERTY,
    ConformanceReport,
    Row,
    report_paths,
    table_lines,
    write,
)
from pytest_syncer.harness.conformance.slo import evaluate
from pytest_syncer.harness.fixtures import harness_config, session_report


def behaviours_of(item: pytest.Item) -> list[str]:
    """The IDs the test's `conformance` markers name; `{param}` and `{param.attr}` in an ID are
    filled from the test's parameters, so one line covers a parametrized test."""
    params: dict[str, Any] = getattr(getattr(item, "callspec", None), "params", {})
    ids: list[str] = []
    for marker in item.iter_markers(MARKER):
        for raw in marker.args:
            try:
                name = str(raw).format(**params)
            except (KeyError, AttributeError, IndexError) as error:
                raise pytest.UsageError(f"{item.nodeid}: conformance ID {raw!r}: {error}") from None
            if name not in BY_ID:
                raise pytest.UsageError(
                    f"{item.nodeid}: unknown conformance behaviour {name!r} "
                    "(pytest_syncer/harness/conformance/behaviours.py lists them)"
                )
            if name not in ids:
                ids.append(name)
    return ids


class ConformancePlugin:
    """Registered once per session (`--syncer-e2e` only); holds the report of the run."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.report = ConformanceReport()
        self.rows: list[Row] = []

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Resolve every test's behaviours; with `--syncer-profile`, keep only the tests that
        show a behaviour of the chosen profiles."""
        for item in items:
            item.stash[BEHAVIOURS_KEY] = behaviours_of(item)
        profiles = harness_config(self.config).profiles
        if not profiles:
            return
        keep = [
            item
            for item in items
            if any(BY_ID[b].profile in profiles for b in item.stash[BEHAVIOURS_KEY])
        ]
        dropped = [item for item in items if item not in keep]
        if dropped:
            self.config.hook.pytest_deselected(items=dropped)
            items[:] = keep

    def pytest_report_header(self) -> list[str]:
        settings = harness_config(self.config)
        lines = []
        if settings.profiles:
            lines.append(
                f"conformance: profiles {', '.join(settings.profiles)} only; the tests of the "
                "others are deselected"
            )
        if settings.slo:
            objectives = ", ".join(objective.statement for objective in settings.slo)
            lines.append(f"conformance: service levels {objectives}")
        return lines

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """The test's behaviours travel in its report (to the xdist controller too)."""
        report = yield
        ids = item.stash.get(BEHAVIOURS_KEY, [])
        if ids:
            report.user_properties.append((PROPERTY, " ".join(ids)))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.report.record(report)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Check the service levels (a failed one fails the run) and write the report."""
        if hasattr(self.config, "workerinput"):
            return
        settings = harness_config(self.config)
        stats = session_report(self.config).stats
        verdicts = evaluate(settings.slo, stats) if settings.slo else []
        rows = self.report.rows(verdicts)
        if settings.profiles:
            rows = [row for row in rows if row.profile in (*settings.profiles, "slo")]
        self.rows = rows
        failed = any(verdict.result == "failed" for verdict in verdicts)
        if failed and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if settings.report is not None:
            title = f"syncer conformance: {settings.command or 'the reference syncer'}"
            write(settings.report, rows, title)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """The table, when some test named a behaviour or a service level was asked for."""
        if not any(row.tests or row.profile == "slo" for row in self.rows):
            return
        terminalreporter.write_sep("-", "syncer conformance")
        for line in table_lines(self.rows):
            terminalreporter.write_line(line)
        report = harness_config(self.config).report
        if report is not None:
            json_path, html_path = report_paths(report)
            terminalreporter.write_line(f"conformance report: {json_path} and {html_path}")
