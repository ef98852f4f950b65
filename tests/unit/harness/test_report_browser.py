"""The HTML report as a browser renders it: headless Chromium loads the page from disk and its
DOM has a row for every behaviour, with the result and the failure text. Skips, saying so,
where no Chromium is installed."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

from pytest_syncer.harness.conformance.behaviours import BEHAVIOURS
from pytest_syncer.harness.conformance.report import ConformanceReport, write

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")


class Rows(HTMLParser):
    """The rendered rows: behaviour ID -> (class, cell texts)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, tuple[str, list[str]]] = {}
        self._current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tr" and found.get("data-behaviour"):
            self._current = str(found["data-behaviour"])
            self.rows[self._current] = (str(found.get("class")), [])
        elif tag == "tr":
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._current is not None and data.strip():
            self.rows[self._current][1].append(data.strip())


def failed(nodeid: str, ids: str, message: str) -> SimpleNamespace:
    return SimpleNamespace(
        nodeid=nodeid,
        outcome="failed",
        passed=False,
        failed=True,
        skipped=False,
        duration=2.0,
        user_properties=[("conformance", ids), ("syncer_artifacts", "/tmp/artifacts/x")],
        longrepr=SimpleNamespace(reprcrash=SimpleNamespace(message=message)),
    )


@pytest.mark.skipif(
    BROWSER is None, reason="no chromium on PATH (Debian: apt-get install chromium)"
)
def test_headless_chromium_shows_a_row_per_behaviour(tmp_path: Path) -> None:
    conformance = ConformanceReport()
    conformance.record(failed("e2e::t", "core.update", "timed out after 15s: data.mode <differs>"))
    _, page = write(tmp_path / "report.json", conformance.rows(), "syncer conformance")
    profile = tmp_path / "chromium-profile"
    command = [
        str(BROWSER),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        f"--user-data-dir={profile}",
        "--dump-dom",
        page.as_uri(),
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True
    ) as browser:
        try:
            dom, _ = browser.communicate(timeout=120)
        finally:
            # Chromium's helpers share its process group: none outlives the test.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(browser.pid, signal.SIGKILL)
            browser.wait()
    parser = Rows()
    parser.feed(dom.decode())
    assert set(parser.rows) == {behaviour.id for behaviour in BEHAVIOURS}
    css, cells = parser.rows["core.update"]
    assert css == "failed"
    assert "timed out after 15s: data.mode <differs>" in cells
    assert parser.rows["core.placement"][0] == "not-run"
