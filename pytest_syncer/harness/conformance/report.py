"""The conformance report: each behaviour's result from the tests that name it, as a terminal
table, a JSON document and a self-contained HTML page.

Fed from test reports (`record`), which under pytest-xdist reach the controller serialized, so
a test's behaviours and artifacts travel in its report's `user_properties`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pytest_syncer.harness.conformance.behaviours import BEHAVIOURS, Behaviour
from pytest_syncer.harness.conformance.slo import Verdict

PROPERTY = "conformance"
"""The user property that carries a test's behaviour IDs, space-separated."""
ARTIFACTS_PROPERTY = "syncer_artifacts"
ORDER = {"failed": 0, "passed": 1, "skipped": 2, "not run": 3}
"""A behaviour's result is the worst of its tests' (a failure anywhere fails it)."""


@dataclass
class TestResult:
    nodeid: str
    outcome: str
    """passed, failed or skipped (a failed setup or teardown counts as failed)."""
    duration: float = 0.0
    why: str = ""
    """The readable failure (or skip reason); empty when it passed."""
    artifacts: list[str] = field(default_factory=list)


@dataclass
class Row:
    id: str
    profile: str
    statement: str
    result: str
    why: str
    """The first line of the first failing test's reason (or of the skip reason)."""
    duration: float
    tests: list[TestResult]


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def reason_of(report: Any) -> str:
    """The readable reason of a failed or skipped test report: the crash message with its
    diff when pytest has one, else the whole representation."""
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple):  # a skip: (file, line, reason)
        return str(longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None and crash.message:
        return str(crash.message)
    return str(getattr(report, "longreprtext", longrepr))


class ConformanceReport:
    """What the run showed, per test; turned into rows per behaviour on demand."""

    def __init__(self, behaviours: Sequence[Behaviour] = BEHAVIOURS) -> None:
        self.behaviours = list(behaviours)
        self.tests: dict[str, tuple[list[str], TestResult]] = {}

    def record(self, report: Any) -> None:
        """One phase's report of a test (setup, call or teardown)."""
        ids = next((str(v).split() for k, v in report.user_properties if k == PROPERTY), None)
        if ids is None:
            return
        _, result = self.tests.setdefault(report.nodeid, (ids, TestResult(report.nodeid, "passed")))
        result.duration += report.duration
        for key, value in report.user_properties:
            if key == ARTIFACTS_PROPERTY and str(value) not in result.artifacts:
                result.artifacts.append(str(value))
        if report.failed and result.outcome != "failed":
            result.outcome, result.why = "failed", reason_of(report)
        elif report.skipped and result.outcome == "passed":
            result.outcome, result.why = "skipped", reason_of(report)

    def rows(self, verdicts: Iterable[Verdict] = ()) -> list[Row]:
        by_behaviour: dict[str, list[TestResult]] = {}
        for ids, test in self.tests.values():
            for name in ids:
                by_behaviour.setdefault(name, []).append(test)
        rows = []
        for behaviour in self.behaviours:
            tests = by_behaviour.get(behaviour.id, [])
            result = min((t.outcome for t in tests), key=ORDER.__getitem__, default="not run")
            why = next((first_line(t.why) for t in tests if t.outcome == result and t.why), "")
            if not tests:
                why = f"no test yet: {behaviour.awaiting}" if behaviour.awaiting else "not selected"
            duration = sum(t.duration for t in tests)
            rows.append(
                Row(
                    behaviour.id,
                    behaviour.profile,
                    behaviour.statement,
                    result,
                    why,
                    duration,
                    tests,
                )
            )
        for verdict in verdicts:
            objective = verdict.objective
            rows.append(
                Row(objective.id, "slo", objective.statement, verdict.result, verdict.why, 0.0, [])
            )
        return rows


def score(rows: Sequence[Row]) -> str:
    counts = {result: sum(row.result == result for row in rows) for result in ORDER}
    return ", ".join(f"{n} {result}" for result, n in counts.items() if n)


def table_lines(rows: Sequence[Row], width: int = 200) -> list[str]:
    """The terminal table: behaviour, result, the first line of why (cut at `width`)."""
    name = max((len(row.id) for row in rows), default=10)
    lines = [f"{'behaviour':<{name}}  {'result':<8}  why"]
    for row in rows:
        line = f"{row.id:<{name}}  {row.result:<8}  {row.why}"
        lines.append(line if len(line) <= width else line[: width - 3] + "...")
    lines.append(f"conformance: {score(rows)} of {len(rows)} behaviours")
    return lines


def to_json(rows: Sequence[Row]) -> dict[str, Any]:
    return {"summary": score(rows), "behaviours": [asdict(row) for row in rows]}


def report_paths(path: Path) -> tuple[Path, Path]:
    """`--syncer-report FILE`: the JSON at FILE, the HTML page beside it with suffix .html."""
    return path, path.with_suffix(".html")


def write(path: Path, rows: Sequence[Row], title: str) -> tuple[Path, Path]:
    json_path, html_path = report_paths(path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(to_json(rows), indent=2) + "\n")
    html_path.write_text(to_html(rows, title))
    return json_path, html_path


STYLE = """
body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.passed{background:#e6f4e6}.failed{background:#fbe3e3}.skipped,.not-run{background:#f4f4f4}
pre{white-space:pre-wrap;margin:0;font-size:85%}
"""


def to_html(rows: Sequence[Row], title: str) -> str:
    """One page, no external resource: a row per behaviour, its tests and failures below it."""
    esc = html.escape
    body = [
        f"<h1>{esc(title)}</h1>",
        f"<p id='summary'>{esc(score(rows))} of {len(rows)} behaviours</p>",
        "<table><thead><tr><th>behaviour</th><th>profile</th><th>result</th>"
        "<th>duration</th><th>statement and why</th></tr></thead><tbody>",
    ]
    for row in rows:
        css = row.result.replace(" ", "-")
        details = "".join(
            f"<li>{esc(t.nodeid)}: {esc(t.outcome)} ({t.duration:.1f}s)"
            + (f"<pre>{esc(t.why)}</pre>" if t.why else "")
            + "".join(
                f" <a href='{esc(Path(a).absolute().as_uri())}'>artifacts</a>" for a in t.artifacts
            )
            + "</li>"
            for t in row.tests
        )
        body.append(
            f"<tr class='{css}' id='behaviour-{esc(row.id)}' data-behaviour='{esc(row.id)}'>"
            f"<td>{esc(row.id)}</td><td>{esc(row.profile)}</td><td>{esc(row.result)}</td>"
            f"<td>{row.duration:.1f}s</td><td>{esc(row.statement)}"
            + (f"<br><b>{esc(row.why)}</b>" if row.why else "")
            + (f"<ul>{details}</ul>" if details else "")
            + "</td></tr>"
        )
    body.append("</tbody></table>")
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )
