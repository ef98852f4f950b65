"""The soak, short (every fault kind once or more, a few targets), as `pytest-syncer soak`
runs it; and the soak's audit itself, shown to see what it must count.

`SYNCER_SOAK_SECONDS` (default 60) and `SYNCER_SOAK_TARGETS` (default 3) make it longer or
wider; the seed is `--syncer-seed`.
"""

from __future__ import annotations

import functools
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_syncer.contract.naming import CLUSTER_LABEL, SYNC_TARGET_KEY_LABEL, WORKLOAD_UID_LABEL
from pytest_syncer.harness.config import HarnessConfig
from pytest_syncer.harness.environment import SyncerEnvironment
from pytest_syncer.harness.kube import KINDS, NAMESPACES, SYNC_STATUSES
from pytest_syncer.harness.waiting import wait_until
from pytest_syncer.soak.audit import Auditor
from pytest_syncer.soak.churn import Churn

from .credentials import credentials, leaks

pytestmark = pytest.mark.syncer_e2e

SOAK_SECONDS = float(os.environ.get("SYNCER_SOAK_SECONDS", "60"))
SOAK_TARGETS = int(os.environ.get("SYNCER_SOAK_TARGETS", "3"))
CONFIGMAPS = KINDS[("v1", "ConfigMap")]


def soak_command(workdir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "pytest_syncer", "soak", f"--dir={workdir}", *args]


def processes_of(workdir: Path) -> list[int]:
    """Processes whose command line names the directory: the environment's own."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if str(workdir).encode() in command:
            found.append(int(entry.name))
    return found


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


def test_a_short_soak_loses_duplicates_and_orphans_nothing(
    tmp_path: Path, syncer_config: HarnessConfig
) -> None:
    workdir = tmp_path / "soak"
    done = subprocess.run(
        soak_command(
            workdir,
            f"--targets={SOAK_TARGETS}",
            f"--duration={SOAK_SECONDS:g}",
            f"--seed={syncer_config.seed}",
            "--fault-gap=2",
            "--converge-timeout=180",
        ),
        capture_output=True,
        text=True,
        timeout=SOAK_SECONDS + 900,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"the soak printed no result (exit {done.returncode}):\n{tail(done.stderr)}"
    result = json.loads(lines[-1])
    never = [kind for kind, count in result["faults"].items() if count == 0]
    assert never == [], f"fault kinds never injected: {never}\n{tail(done.stderr)}"
    assert result["freezes_stale"] == result["faults"]["freeze"]
    assert result["operations"] > 0
    assert result["objects_checked"] > 0
    outcome = {key: result[key] for key in ("lost", "duplicated", "orphaned", "converged")}
    assert outcome == {"lost": 0, "duplicated": 0, "orphaned": 0, "converged": True}, tail(
        done.stderr
    )
    assert done.returncode == 0
    assert leaks(workdir, credentials(workdir)) == []
    assert processes_of(workdir) == []


def test_sigterm_stops_the_soak_and_every_process(tmp_path: Path) -> None:
    workdir = tmp_path / "stopped"
    log = tmp_path / "soak.err"
    with log.open("w") as stderr:
        soak = subprocess.Popen(
            soak_command(workdir, "--targets=2", "--duration=600"),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        wait_until(
            lambda: log.read_text(),
            lambda text: "environment up" in text,
            what="the soak's environment up",
            timeout=120,
            interval=0.2,
        )
        assert processes_of(workdir) != []
        soak.send_signal(signal.SIGTERM)
        assert soak.wait(60) == 130
    finally:
        if soak.poll() is None:
            soak.kill()
            soak.wait()
    assert "stopped every process" in log.read_text()
    assert processes_of(workdir) == []


def test_the_audit_counts_what_was_lost_duplicated_or_orphaned(
    syncer_env: SyncerEnvironment, syncer_config: HarnessConfig
) -> None:
    churn = Churn(
        syncer_env,
        random.Random(syncer_config.seed),
        rate=1.0,
        population=3,
        prefix=f"audit-{syncer_config.seed}",
    )
    churn.prepare()
    settings = churn.create(CONFIGMAPS)
    churn.create()
    auditor = Auditor(syncer_env, churn)
    clean = wait_until(
        auditor.look,
        lambda audit: audit.converged,
        what="the audit's objects converged before anything is planted",
        timeout=syncer_config.timeout * 2,
        interval=0.5,
    )
    assert clean.checked >= 2
    upstream = syncer_env.upstream
    target = sorted(settings.placed)[0]
    below = syncer_env.targets[target]
    stray = f"stray-{syncer_config.seed}"
    try:
        # Lost: the upstream object no longer holds what the churn wrote.
        upstream.patch(CONFIGMAPS, settings.name, {"data": {"rev": "x"}}, settings.namespace)
        # Orphaned: a copy carrying this target's marker where no locator explains it.
        below.cluster.ensure({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": stray}})
        below.cluster.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "ghost", "labels": {CLUSTER_LABEL: below.key}},
                "data": {"from": "nowhere"},
            },
            stray,
        )
        # Duplicated: a second SyncStatus for one (workload, target).
        uid = upstream.get(CONFIGMAPS, settings.name, settings.namespace)["metadata"]["uid"]
        [status] = upstream.list(
            SYNC_STATUSES,
            settings.namespace,
            label_selector=f"{WORKLOAD_UID_LABEL}={uid},{SYNC_TARGET_KEY_LABEL}={below.key}",
        )
        twin = {key: status[key] for key in ("apiVersion", "kind", "spec")}
        twin["metadata"] = {"name": "twin", "labels": status["metadata"]["labels"]}
        upstream.create(twin, settings.namespace)

        seen = auditor.look()
        assert [line for line in seen.lost if f"{settings.ref} upstream: data.rev" in line]
        assert [line for line in seen.orphaned if f"{stray}/ghost on {target}" in line]
        assert [line for line in seen.duplicated if f"2 SyncStatus from {target}" in line]
        assert not seen.converged
    finally:
        upstream.delete(SYNC_STATUSES, "twin", settings.namespace)
        below.cluster.delete(NAMESPACES, stray)
        for model in churn.objects.values():
            upstream.delete(model.kind, model.name, model.namespace)
        for model in churn.objects.values():
            wait_until(
                functools.partial(upstream.find, model.kind, model.name, model.namespace),
                lambda found: found is None,
                what=f"{model.ref} released by every syncer",
                timeout=syncer_config.timeout,
                interval=0.2,
            )
        for namespace in churn.namespaces:
            upstream.delete(NAMESPACES, namespace)
