"""`pytest-syncer up --targets 5 --crds ...` for a person's shell: it comes up, kubectl with the
printed kubeconfigs sees a workload and a custom resource synced to a target, and Ctrl-C leaves
no process behind."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_syncer.contract.objects import NamespaceLocator, SyncTarget
from pytest_syncer.harness.environment_file import EnvironmentFacts
from pytest_syncer.harness.waiting import wait_until
from pytest_syncer.process.proc import our_processes, pid_alive

STARTUP = 180.0
CRDS = Path(__file__).parents[3] / "fixtures" / "crds" / "workloads"
UP = (sys.executable, "-m", "pytest_syncer", "up")


def kubectl(
    kubeconfig: str, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def read_ready_line(process: subprocess.Popen[str]) -> dict[str, Any]:
    """The JSON line `up` prints on stdout once everything runs."""
    stdout = process.stdout
    assert stdout is not None
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(STARTUP)
    assert line, f"pytest-syncer up printed nothing within {STARTUP:g}s"
    assert line[0].strip(), f"pytest-syncer up exited with {process.poll()} before it was ready"
    ready: dict[str, Any] = json.loads(line[0])
    return ready


def servers(kubeconfigs: list[str]) -> set[str]:
    """The API server base URLs (scheme, host, port) the kubeconfigs point at."""
    found = set()
    for path in kubeconfigs:
        [cluster] = yaml.safe_load(Path(path).read_text())["clusters"]
        found.add(cluster["cluster"]["server"].split("/clusters/")[0])
    return found


def wildcard_server(kubeconfig: str, context: str) -> str:
    """The server URL of one named context of a kubeconfig."""
    document = yaml.safe_load(Path(kubeconfig).read_text())
    (chosen,) = [c["context"] for c in document["contexts"] if c["name"] == context]
    (cluster,) = [c["cluster"] for c in document["clusters"] if c["name"] == chosen["cluster"]]
    server: str = cluster["server"]
    return server


@pytest.mark.parametrize(("apiservers", "processes"), [("1", 4), ("3", 6)])
def test_up_five_targets_kubectl_sees_a_synced_workload_and_ctrl_c_stops_all(
    tmp_path: Path, apiservers: str, processes: int
) -> None:
    """With `--apiservers 3` the upstream and the targets are served by three processes,
    which Ctrl-C stops too; `environment.json` names each process's wildcard (`/clusters/*`)
    and the targets it serves, so a load test watches them with one request."""
    directory = tmp_path / "env"
    process = subprocess.Popen(
        [
            *UP,
            "--targets",
            "5",
            "--apiservers",
            apiservers,
            "--crds",
            str(CRDS),
            "--dir",
            str(directory),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    facts: EnvironmentFacts | None = None
    try:
        ready = read_ready_line(process)
        assert sorted(ready["kubeconfigs"]) == [f"target-00{i}" for i in range(5)]
        assert ready["hub"].startswith("https://127.0.0.1:")
        facts = EnvironmentFacts.read(directory)
        # the API servers, the simulator, the hub, a syncer pool
        assert len(facts.process_groups) == processes
        assert len(servers([ready["upstream_kubeconfig"], *ready["kubeconfigs"].values()])) == int(
            apiservers
        )
        assert facts.ready_seconds is not None
        assert facts.ready_seconds > 0
        assert ready["ready_seconds"] == facts.ready_seconds
        apiserver_names = ["apiserver", *(f"apiserver-{i}" for i in range(1, int(apiservers)))]
        assert sorted(facts.processes) == sorted(
            [*apiserver_names, "hub", "simulate", "syncer-pool1"]
        )
        assert {p["pid"] for p in facts.processes.values()} == set(facts.process_groups)
        # VmRSS of a Python process that imported aiohttp is tens of MiB, never zero.
        assert all(p["rss_kib"] > 10_000 for p in facts.processes.values()), facts.processes
        assert ready["processes"] == facts.processes
        # One wildcard per process serving targets, on the same server as those targets.
        assert len(facts.wildcards) == max(1, int(apiservers) - 1)
        assert sorted(t for w in facts.wildcards for t in w.targets.values()) == sorted(
            facts.targets
        )
        for wildcard in facts.wildcards:
            server = wildcard_server(wildcard.kubeconfig, wildcard.context)
            assert server.endswith("/clusters/*"), server
            assert servers([facts.targets[t].kubeconfig for t in wildcard.targets.values()]) == {
                server.removesuffix("/clusters/*")
            }
        target = facts.targets["target-003"]
        metadata = {"name": "by-hand", "namespace": "default", "labels": {target.label: "Sync"}}
        manifests = {
            "apiVersion": "v1",
            "kind": "List",
            "items": [
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": metadata,
                    "data": {"made": "with kubectl"},
                },
                {
                    "apiVersion": "example.com/v1",
                    "kind": "Widget",
                    "metadata": metadata,
                    "spec": {"size": 2},
                },
            ],
        }
        created = kubectl(
            ready["upstream_kubeconfig"], "apply", "-f", "-", stdin=json.dumps(manifests)
        )
        assert created.returncode == 0, created.stderr
        below = NamespaceLocator(
            SyncTarget("target-003", facts.upstream_cluster, target.uid),
            facts.upstream_cluster,
            "default",
        ).downstream_namespace
        copy = wait_until(
            lambda: kubectl(
                ready["kubeconfigs"]["target-003"],
                "get",
                "configmap/by-hand",
                "widgets.example.com/by-hand",
                "-n",
                below,
                "-o",
                "json",
            ),
            lambda found: found.returncode == 0,
            what=f"kubectl to see the ConfigMap and the Widget synced to target-003 in {below}",
            timeout=60,
            interval=0.3,
        )
        configmap, widget = json.loads(copy.stdout)["items"]
        assert configmap["data"] == {"made": "with kubectl"}
        assert widget["spec"] == {"size": 2}
        elsewhere = kubectl(
            ready["kubeconfigs"]["target-001"], "get", "configmaps", "-A", "-o", "name"
        )
        assert "by-hand" not in elsewhere.stdout
        process.send_signal(signal.SIGINT)
        process.wait(120)
        assert process.returncode == 0
        assert process.stderr is not None
        told = process.stderr.read()
        assert "stopped every process" in told
        assert f"pytest-syncer up: ready: 5 targets in {facts.ready_seconds}s" in told
        assert "pytest-syncer up: resident memory (MiB): apiserver " in told
        assert facts.live_pids() == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if facts is not None:
            for pid in facts.process_groups:
                if pid_alive(pid):
                    subprocess.run(["kill", "-9", f"-{pid}"], check=False)


def test_down_stops_an_up_that_is_still_starting(tmp_path: Path) -> None:
    """A thousand targets take minutes to start; `down DIR` must not need `environment.json`
    (written once ready) to stop them, and must leave no process of DIR behind."""
    directory = tmp_path / "env"
    process = subprocess.Popen(
        [*UP, "--targets", "5", "--dir", str(directory)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(
            lambda: sorted(path.name for path in directory.glob("*.log")),
            lambda logs: "apiserver.log" in logs,
            what="`up` to start the API server",
            timeout=60,
            interval=0.05,
        )
        assert not (directory / "environment.json").exists()
        down = subprocess.run(
            [sys.executable, "-m", "pytest_syncer", "down", str(directory)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert down.returncode == 0, down.stderr
        assert "stopped the environment starting in" in down.stderr
        assert process.wait(30) == 0
        assert process.stderr is not None
        assert "stopped every process" in process.stderr.read()
        left = [pid for pid, args in our_processes() if str(directory).encode() in b" ".join(args)]
        assert left == [], f"processes of {directory} still run: {left}"
        assert not (directory / "up.pid").exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
