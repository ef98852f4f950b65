"""The load test's `DownstreamCopies` against a real embedded API server serving the upstream
and two targets: with the wildcard `environment.json` names it opens one watch for both
targets and counts each event for the target its object's cluster is (never for the upstream,
which shares the process, nor for an object without the load-test label); without one (kind,
kubeconfig providers, older files) one watch per target counts the same.

The probe runs in a process of its own (`copies_probe.py`): locust's gevent would patch this
one's standard library.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.apiserver.http.metrics import REQUESTS, total
from pytest_syncer.harness.environment_file import EnvironmentFacts, TargetFacts, WildcardFacts
from tests.support.tokens import bearer, token_of

REPOSITORY = Path(__file__).resolve().parents[3]
TARGETS = ["target-a", "target-b"]
DEADLINE = 120.0


@pytest.fixture
def apiserver(tmp_path: Path) -> Iterator[BackgroundAPIServer]:
    server = BackgroundAPIServer(["upstream", *TARGETS], tmp_path / "kubeconfigs")
    with server:
        yield server


def write_environment(
    directory: Path, server: BackgroundAPIServer, wildcards: list[WildcardFacts]
) -> None:
    directory.mkdir()
    EnvironmentFacts(
        pid=0,
        process_groups=[],
        provider="embedded",
        started="2026-12-07T00:00:00Z",
        hub={"url": "https://127.0.0.1:9", "ca": str(server.ca_file)},
        upstream={"cluster": "upstream", "kubeconfig": str(server.kubeconfigs["upstream"])},
        targets={
            name: TargetFacts(str(server.kubeconfigs[name]), f"key-{name}", "unused", "unused")
            for name in TARGETS
        },
        profiles_file=None,
        wildcards=wildcards,
    ).write(directory)


def configmap_watches(server: BackgroundAPIServer) -> float:
    """How many ConfigMap watch requests the server has answered since it started."""
    page = requests.get(
        f"{server.url}/metrics",
        headers=bearer(token_of(server.admin_kubeconfig)),
        verify=str(server.ca_file),
        timeout=30,
    )
    page.raise_for_status()
    return total(page.text, REQUESTS, verb="WATCH", resource="configmaps")


@pytest.mark.parametrize("wildcard", [True, False], ids=["wildcard", "per-target"])
def test_every_targets_copy_is_counted_once_for_it(
    apiserver: BackgroundAPIServer, tmp_path: Path, wildcard: bool
) -> None:
    wildcards = (
        [WildcardFacts(str(apiserver.admin_kubeconfig), "*", {t: t for t in TARGETS})]
        if wildcard
        else []
    )
    write_environment(tmp_path / "env", apiserver, wildcards)
    before = configmap_watches(apiserver)
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.loadtests.copies_probe", str(tmp_path / "env")],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.splitlines()[-1])
    if wildcard:
        assert seen["sources"] == [["*", None, TARGETS]]
    else:
        assert seen["sources"] == [[None, name, [name]] for name in TARGETS]
    assert configmap_watches(apiserver) - before == len(seen["sources"])
    assert seen["marker-1"]
    assert seen["upstream"] == [], "the upstream's object was counted for a target"
    assert seen["marker-2"]
    assert seen["unlabelled"] == [], "an object without the load-test label was counted"
    assert (seen["added complete"], seen["added"]) == (True, TARGETS)
    assert (seen["deleted complete"], seen["deleted"]) == (True, TARGETS)
