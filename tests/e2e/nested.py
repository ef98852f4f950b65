"""A nested pytest run that ends within its own budget, under the outer test's pytest-timeout,
and whose failure shows each failing nested test's own report, not only the counts.

On its budget the nested run gets SIGINT (pytest's Ctrl-C: it stops, tears its environments
down and writes its reports), then SIGKILL if it is still there after `GRACE` seconds.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

GRACE = 30.0
"""Seconds an interrupted nested run gets to tear down before it is killed."""
SHOWN_CHARACTERS = 3000
"""Of each failing nested test's report, at most this much."""


def outer_timeout(item: pytest.Item) -> float | None:
    """The pytest-timeout that applies to `item` (its marker, else the option or ini)."""
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0])
    value = item.config.getoption("timeout", None) or item.config.getini("timeout")
    return float(value) if value else None


def failures(junit: Path) -> list[str]:
    """Each failing or erroring nested test: its id and its own report (the longrepr)."""
    if not junit.exists():
        return []
    found = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        for outcome in [*case.iter("failure"), *case.iter("error")]:
            text = (outcome.text or outcome.get("message") or "").strip()
            if len(text) > SHOWN_CHARACTERS:
                text = "...\n" + text[-SHOWN_CHARACTERS:]
            found.append(f"{case.get('classname')}::{case.get('name')}:\n{text}")
    return found


def run_nested(
    pytester: pytest.Pytester,
    args: list[str],
    *,
    budget: float,
    test_timeout: float | None = None,
) -> list[str]:
    """Run `pytest args` in a subprocess for at most `budget` seconds (each nested test at most
    `test_timeout`, by default a third of it, so one hung test leaves time for the others);
    return its output lines if every test passed, else fail with each failing nested test's
    report, or with the output so far when the budget ran out."""
    junit = pytester.path / "nested-junit.xml"
    stdout = pytester.path / "nested-stdout.txt"
    argv = [
        sys.executable,
        "-m",
        "pytest",
        f"--basetemp={pytester.path / 'nested-tmp'}",
        f"--junitxml={junit}",
        "-o",
        f"timeout={test_timeout or budget / 3:g}",
        *args,
    ]
    with stdout.open("w") as out:
        process = pytester.popen(argv, stdout=out, stderr=subprocess.STDOUT)
        try:
            code = process.wait(budget)
            overran = False
        except subprocess.TimeoutExpired:
            overran = True
            process.send_signal(signal.SIGINT)
            try:
                code = process.wait(GRACE)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
    output = stdout.read_text(errors="replace")
    failed = failures(junit)
    if overran:
        tail = "\n".join(output.splitlines()[-60:])
        reports = "\n\n".join(failed) or "none finished failing"
        pytest.fail(
            f"the nested run exceeded its {budget:g}s budget and was interrupted; its failing "
            f"tests:\n{reports}\n\nits last output:\n{tail}",
            pytrace=False,
        )
    if code != 0 or failed:
        reports = "\n\n".join(failed) or "\n".join(output.splitlines()[-60:])
        pytest.fail(f"the nested run failed (exit {code}):\n{reports}", pytrace=False)
    return output.splitlines()
