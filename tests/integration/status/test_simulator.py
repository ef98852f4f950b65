"""`pytest-syncer simulate` as a real process against an embedded API server with two clusters."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.client import KubeClient, Resource
from pytest_syncer.process.parent import ServiceProcess
from pytest_syncer.status.objects import deployment
from pytest_syncer.status.profiles import PROFILE_LABEL

CLUSTERS = ["sim-a", "sim-b"]
DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment")
JOBS = Resource("batch", "v1", "jobs", "Job")
STATEFULSETS = Resource("apps", "v1", "statefulsets", "StatefulSet")
PODS = Resource("", "v1", "pods", "Pod")


def stateful_set(name: str, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "db", "image": "postgres"}]},
            },
        },
    }


def pod(name: str, profile: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {PROFILE_LABEL: profile}},
        "spec": {"containers": [{"name": "app", "image": "busybox"}]},
    }


def restarts(obj: dict[str, Any]) -> int:
    statuses = (obj.get("status") or {}).get("containerStatuses") or [{}]
    return int(statuses[0].get("restartCount", 0))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundAPIServer]:
    with BackgroundAPIServer(CLUSTERS, tmp_path_factory.mktemp("kubeconfigs")) as running:
        yield running


def write_profiles(path: Path, clusters: dict[str, str]) -> None:
    staging = path.with_suffix(".tmp")
    staging.write_text(json.dumps({"default": "healthy", "clusters": clusters}))
    staging.replace(path)


def condition(obj: dict[str, Any], kind: str) -> str | None:
    for found in (obj.get("status") or {}).get("conditions") or ():
        if found["type"] == kind:
            return str(found["status"])
    return None


async def test_profiles_per_cluster_and_a_cluster_that_recovers(
    server: BackgroundAPIServer, tmp_path: Path
) -> None:
    profiles = tmp_path / "profiles.json"
    write_profiles(profiles, {"sim-b": "never-ready"})
    simulator = ServiceProcess(
        "simulate",
        [
            *(f"--kubeconfig={server.kubeconfigs[name]}" for name in CLUSTERS),
            f"--profiles-file={profiles}",
            "--time-scale=0.5",
        ],
        log_path=tmp_path / "simulate.log",
    )
    with simulator:
        assert simulator.ready["profiles"] == {"sim-a": "healthy", "sim-b": "never-ready"}
        async with (
            await KubeClient.from_kubeconfig(server.kubeconfigs["sim-a"]) as a,
            await KubeClient.from_kubeconfig(server.kubeconfigs["sim-b"]) as b,
        ):
            for client in (a, b):
                await client.create(DEPLOYMENTS, deployment("web", "default", [], replicas=4))
            healthy = await await_until(
                lambda: a.get(DEPLOYMENTS, "web", "default"),
                lambda obj: condition(obj, "Available") == "True",
                what="the healthy cluster's Deployment available",
                timeout=20,
            )
            assert healthy["status"]["readyReplicas"] == 4
            assert healthy["status"]["observedGeneration"] == healthy["metadata"]["generation"]
            stuck = await await_until(
                lambda: b.get(DEPLOYMENTS, "web", "default"),
                lambda obj: condition(obj, "Available") == "False",
                what="the never-ready cluster's Deployment reported unavailable",
                timeout=20,
            )
            assert "readyReplicas" not in stuck["status"]
            assert stuck["status"]["unavailableReplicas"] == 4

            write_profiles(profiles, {})
            recovered = await await_until(
                lambda: b.get(DEPLOYMENTS, "web", "default"),
                lambda obj: condition(obj, "Available") == "True",
                what="the recovered cluster's Deployment available",
                timeout=20,
            )
            assert recovered["status"]["readyReplicas"] == 4

            job = {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {
                    "name": "once",
                    "namespace": "default",
                    "labels": {PROFILE_LABEL: "failing-job"},
                },
                "spec": {
                    "backoffLimit": 2,
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "c", "image": "busybox"}],
                        }
                    },
                },
            }
            await a.create(JOBS, job)
            failed = await await_until(
                lambda: a.get(JOBS, "once", "default"),
                lambda obj: condition(obj, "Failed") == "True",
                what="the Job labelled failing-job failed",
                timeout=20,
            )
            assert failed["status"]["failed"] == 3

            await a.create(STATEFULSETS, stateful_set("db", 3))
            await a.create(PODS, pod("worker", "crash-looping"))
            db = await await_until(
                lambda: a.get(STATEFULSETS, "db", "default"),
                lambda obj: (obj.get("status") or {}).get("readyReplicas") == 3,
                what="the StatefulSet's replicas ready",
                timeout=20,
            )
            assert db["status"]["currentRevision"] == db["status"]["updateRevision"]
            worker = await await_until(
                lambda: a.get(PODS, "worker", "default"),
                lambda obj: restarts(obj) >= 2,
                what="the crash-looping pod restarting",
                timeout=20,
            )
            assert condition(worker, "Ready") == "False"


def test_bad_arguments_are_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest_syncer", "simulate", f"--kubeconfig={tmp_path / 'nope'}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "no such kubeconfig" in done.stderr
    assert done.stdout == ""
