"""The real kubectl binaries of the machine image, run against an embedded API server."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import IO

import pytest

#: The versions the kubectl tests run with: the oldest the image carries (it reads
#: /openapi/v2 as protobuf), its default minor and the next one.
KUBECTL_VERSIONS = ("1.27", "1.32", "1.33")


def find_kubectl(version: str) -> Path | None:
    """``kubectl.<version>``, which the image puts beside the binary ``kubectl`` resolves to."""
    found = shutil.which("kubectl")
    if found is None:
        return None
    candidate = Path(os.path.realpath(found)).parent / f"kubectl.{version}"
    return candidate if os.access(candidate, os.X_OK) else None


def kubectl_or_skip(
    version: str, kubeconfig: Path, cache_dir: Path, namespace: str = "default"
) -> Kubectl:
    """``kubectl.<version>`` on ``kubeconfig``; the test skips, saying so, where the image lacks
    that version."""
    binary = find_kubectl(version)
    if binary is None:
        pytest.skip(f"kubectl.{version} is not installed beside the image's kubectl")
    return Kubectl(binary, kubeconfig, cache_dir, namespace, version=version)


class Kubectl:
    """One kubectl binary, one kubeconfig, one namespace and its own discovery cache."""

    def __init__(
        self,
        binary: Path,
        kubeconfig: Path,
        cache_dir: Path,
        namespace: str,
        *,
        version: str = "",
    ) -> None:
        self.binary = binary
        #: (major, minor) when known, for behaviour that changed between kubectl versions.
        self.version = tuple(int(part) for part in version.split(".") if part)
        self.kubeconfig = kubeconfig
        self.cache_dir = cache_dir
        self.namespace = namespace

    def command(self, *args: str) -> list[str]:
        return [
            str(self.binary),
            f"--kubeconfig={self.kubeconfig}",
            f"--cache-dir={self.cache_dir}",
            f"--namespace={self.namespace}",
            *args,
        ]

    def run(
        self,
        *args: str,
        stdin: str | None = None,
        check: bool = True,
        timeout: float = 60,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.command(*args),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**_environment(), **(env or {})},
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} exited {result.returncode}:\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}"
            )
        return result

    def start(self, *args: str) -> LineReader:
        """kubectl running in the background (``get -w``, ``wait``), its stdout read by lines."""
        process = subprocess.Popen(
            self.command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_environment(),
        )
        return LineReader(process)


def _environment() -> dict[str, str]:
    """No proxy and no ambient kubeconfig: kubectl talks to the test server only."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "NO_PROXY": "127.0.0.1,localhost",
    }


class LineReader:
    """Collects a process's stdout lines on a thread, so tests can wait on them."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._lock = threading.Lock()
        assert process.stdout is not None
        self._thread = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self.lines)

    def stop(self) -> str:
        """End the process (if still running) and return its stderr."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            _, stderr = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, stderr = self.process.communicate()
        self._thread.join(timeout=5)
        return stderr or ""
