"""What the kernel says of a listening socket, read with iproute2's `ss`."""

from __future__ import annotations

import shutil
import subprocess

import pytest


def listen_backlog(port: int) -> int:
    """The backlog of the TCP socket listening on `port` (the Send-Q `ss -l` shows for a
    listening socket); skips the test where `ss` is missing."""
    if shutil.which("ss") is None:
        pytest.skip("iproute2's ss is not on this machine: a listen backlog cannot be read")
    shown = subprocess.run(
        ["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert shown, f"nothing listens on port {port}"
    return int(shown[2])


def kernel_backlog_cap() -> int:
    """What a listen(2) backlog is capped at: /proc/sys/net/core/somaxconn."""
    with open("/proc/sys/net/core/somaxconn") as capped:
        return int(capped.read())
