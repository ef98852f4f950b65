"""``pytest-syncer apiserver`` as a real process: flags, ready line, kubeconfigs, signals."""

from __future__ import annotations

import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from pytest_syncer.apiserver.kubeconfig import context_from_kubeconfig, load_kubeconfig
from pytest_syncer.harness.waiting import wait_until
from pytest_syncer.process.parent import ServiceProcess


@pytest.mark.parametrize(
    "args",
    [
        ["--bogus"],
        ["--clusters", "a"],
        ["--clusters", "Not_Valid", "--kubeconfig-dir", "x"],
        ["--clusters", "a,a", "--kubeconfig-dir", "x"],
        ["--clusters", "a", "--kubeconfig-dir", "x", "--port", "70000"],
        ["--clusters", "a", "--kubeconfig-dir", "x", "--watch-retention", "0"],
        ["--clusters", "a", "--kubeconfig-dir", "x", "--enable-admission-plugins", "a=NoSuch"],
        ["--clusters", "a", "--kubeconfig-dir", "x", "--enable-admission-plugins", "a"],
        [
            *("--clusters", "a", "--kubeconfig-dir", "x"),
            *("--enable-admission-plugins", "b=DenyServiceExternalIPs"),
        ],
        [
            *("--clusters", "a", "--kubeconfig-dir", "x"),
            *("--enable-admission-plugins", "a=DenyServiceExternalIPs"),
            *("--enable-admission-plugins", "a="),
        ],
    ],
)
def test_bad_flags_are_a_usage_error(args: list[str], tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest_syncer", "apiserver", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_ready_line_kubeconfigs_and_clean_stop(tmp_path: Path, stop_signal: int) -> None:
    kubeconfigs = tmp_path / "kubeconfigs"
    process = ServiceProcess(
        "apiserver",
        ["--clusters", "upstream,target-1", "--kubeconfig-dir", str(kubeconfigs)],
        log_path=tmp_path / "apiserver.log",
    )
    ready = process.start()
    try:
        assert ready["url"].startswith("https://127.0.0.1:")
        assert ready["kubeconfigs"] == {
            "upstream": str(kubeconfigs / "upstream.kubeconfig"),
            "target-1": str(kubeconfigs / "target-1.kubeconfig"),
        }
        assert ready["admin"] == str(kubeconfigs / "admin.kubeconfig")
        assert Path(ready["ca"]).read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
        for path in [*ready["kubeconfigs"].values(), ready["admin"]]:
            assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600
        context = context_from_kubeconfig(load_kubeconfig(Path(ready["kubeconfigs"]["upstream"])))
        assert context.server == ready["url"] + "/clusters/upstream"
        response = requests.get(
            context.server + "/api/v1/namespaces/kube-system",
            headers={"Authorization": f"Bearer {context.token}"},
            verify=ready["ca"],
            timeout=30,
        )
        assert response.status_code == 200
        open_watch = requests.get(
            context.server + "/api/v1/configmaps",
            params={"watch": "1"},
            headers={"Authorization": f"Bearer {context.token}"},
            verify=ready["ca"],
            stream=True,
            timeout=30,
        )
        process.signal(stop_signal)
        wait_until(
            lambda: process.running,
            lambda running: not running,
            what="exit on signal with a watch open",
            timeout=10,
        )
        open_watch.close()
    finally:
        code = process.stop()
    assert code == 0
    log = (tmp_path / "apiserver.log").read_text()
    assert context.token not in log
    assert "serving 2 logical clusters" in log


def test_insecure_http_serves_plain_http(tmp_path: Path) -> None:
    kubeconfigs = tmp_path / "kubeconfigs"
    with ServiceProcess(
        "apiserver",
        ["--clusters", "one", "--kubeconfig-dir", str(kubeconfigs), "--insecure-http"],
        log_path=tmp_path / "apiserver.log",
    ) as process:
        ready = process.ready
        assert ready["url"].startswith("http://")
        assert ready["ca"] is None
        context = context_from_kubeconfig(load_kubeconfig(Path(ready["kubeconfigs"]["one"])))
        assert context.ca_pem is None
        response = requests.get(
            context.server + "/version",
            headers={"Authorization": f"Bearer {context.token}"},
            timeout=30,
        )
        assert response.json()["minor"] == "32"


def _create_service(ready: dict[str, Any], cluster: str, name: str) -> requests.Response:
    context = context_from_kubeconfig(load_kubeconfig(Path(ready["kubeconfigs"][cluster])))
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"ports": [{"port": 80}], "externalIPs": ["192.0.2.10"]},
    }
    return requests.post(
        context.server + "/api/v1/namespaces/default/services",
        json=body,
        headers={"Authorization": f"Bearer {context.token}"},
        verify=ready["ca"],
        timeout=30,
    )


def test_admission_plugins_per_cluster_are_enforced_and_kept_in_the_data_dir(
    tmp_path: Path,
) -> None:
    base = ["--kubeconfig-dir", str(tmp_path / "kubeconfigs"), "--data-dir", str(tmp_path / "d")]
    plugin = "DenyServiceExternalIPs"
    denied = 'services "{}" is forbidden: Use of external IPs is denied by admission control'

    def serve(*flags: str) -> ServiceProcess:
        return ServiceProcess("apiserver", [*base, *flags], log_path=tmp_path / "apiserver.log")

    with serve("--clusters", "strict,open", "--enable-admission-plugins", f"strict={plugin}") as p:
        assert p.ready["admission_plugins"] == {"strict": [plugin]}
        refused = _create_service(p.ready, "strict", "first")
        assert refused.status_code == 403
        assert refused.json()["reason"] == "Forbidden"
        assert refused.json()["message"] == denied.format("first")
        assert _create_service(p.ready, "open", "first").status_code == 201

    with serve() as restarted:
        assert restarted.ready["admission_plugins"] == {"strict": [plugin]}
        assert _create_service(restarted.ready, "strict", "again").json()["message"] == (
            denied.format("again")
        )

    with serve("--enable-admission-plugins", "strict=") as lifted:
        assert lifted.ready["admission_plugins"] == {}
        assert _create_service(lifted.ready, "strict", "allowed").status_code == 201
    assert "cluster=strict admission plugins: DenyServiceExternalIPs" in (
        (tmp_path / "apiserver.log").read_text()
    )
