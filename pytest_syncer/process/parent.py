"""Start a ``pytest-syncer`` service as a real process and stop it, children included.

Tests and the harness use this for everything that must be a real process: it waits for the
service's ready line with a deadline, keeps its stderr in a log file for artifacts, and on
``stop`` sends SIGTERM, then SIGKILL after a grace period, to the whole process group.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_syncer.process.lifetime import SyncLifetime


class ServiceStartError(RuntimeError):
    """The service exited or stayed silent instead of printing its ready line."""


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class GroupLeader:
    """A child started as the leader of its own process group (``start_new_session``), so a
    signal reaches whatever it started too: a stopped syncer leaves no tunnel agent behind."""

    _process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def signal(self, signum: int) -> None:
        """Send a signal to the whole process group (fault injection uses SIGKILL, SIGSTOP)."""
        if self.running:
            assert self._process is not None
            os.killpg(self._process.pid, signum)

    def _stop_group(self, grace: float, *, resume: bool = False) -> int | None:
        """SIGTERM the group (after SIGCONT when `resume`, for a group a fault stopped), then
        SIGKILL after `grace` seconds; the exit code, None when it never started."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            if resume:
                self.signal(signal.SIGCONT)
            self.signal(signal.SIGTERM)
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                process.wait()
        return process.returncode


class ServiceProcess(GroupLeader, SyncLifetime, start="start", stop="stop"):
    """One ``python -m pytest_syncer COMMAND ...`` process with its ready payload.

    ``ready`` is the JSON object the service printed once it served; ``log_path`` holds
    its stderr. Use it as a context manager, or call ``stop`` in a ``finally``.
    """

    def __init__(
        self,
        command: str,
        args: Sequence[str],
        *,
        log_path: Path,
        env: dict[str, str] | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.argv = [sys.executable, "-m", "pytest_syncer", command, *args]
        self.log_path = log_path
        self.ready: dict[str, Any] = {}
        self._env = {**os.environ, **(env or {})}
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the service is not started")
        return self._process.pid

    def start(self) -> dict[str, Any]:
        """Start the process and return its ready payload, or raise with its last log lines."""
        self.spawn()
        return self.wait_ready()

    def spawn(self) -> None:
        """Start the process without waiting for it: start many, then `wait_ready` on each,
        and their start-ups overlap."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                env=self._env,
                start_new_session=True,
            )

    def wait_ready(self) -> dict[str, Any]:
        """The ready payload of the spawned process, or raise with its last log lines."""
        if self._process is None:
            raise RuntimeError("the service is not started")
        line: list[bytes] = []
        stdout = self._process.stdout
        assert stdout is not None
        reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(self._startup_timeout)
        if not line or not line[0].strip():
            code = self._process.poll()
            self.stop()
            state = f"exited with {code}" if code is not None else "printed no ready line"
            raise ServiceStartError(
                f"{' '.join(self.argv[2:])} {state} within {self._startup_timeout:.0f}s; "
                f"last log lines:\n{_tail(self.log_path)}"
            )
        self.ready = json.loads(line[0])
        return self.ready

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; returns the exit code."""
        code = self._stop_group(grace)
        if self._process is not None and self._process.stdout is not None:
            self._process.stdout.close()
        return code
