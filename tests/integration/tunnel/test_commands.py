"""The ``hub`` and ``token`` commands as a user runs them."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from pytest_syncer.process.parent import ServiceProcess
from pytest_syncer.tunnel.auth import TokenAuthority

from .conftest import WORKSPACE, Environment, mint


def test_the_hub_prints_url_and_ca_and_stops_cleanly(environment: Environment) -> None:
    hub = ServiceProcess(
        "hub",
        [
            "--upstream-kubeconfig",
            environment.kubeconfig(WORKSPACE),
            "--token-secret-file",
            str(environment.secret),
        ],
        log_path=environment.work / "second-hub.log",
    )
    try:
        ready = hub.start()
        assert set(ready) == {"url", "ca"}
        assert ready["url"].startswith("https://127.0.0.1:")
        assert Path(ready["ca"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
        hub.signal(signal.SIGTERM)
    finally:
        code = hub.stop()
    assert code == 0


def test_the_hub_names_a_missing_secret_file(environment: Environment, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest_syncer",
            "hub",
            "--upstream-kubeconfig",
            environment.kubeconfig(WORKSPACE),
            "--token-secret-file",
            str(tmp_path / "missing"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "missing" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_token_command_mints_what_the_hub_verifies(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("a-secret-of-more-than-sixteen-bytes\n")
    token = mint(secret, "root:org:ws", "us-east1", ttl=30)
    claims = TokenAuthority.from_file(secret).verify(token, "root:org:ws", "us-east1")
    assert claims.expires_at - claims.issued_at == 30
