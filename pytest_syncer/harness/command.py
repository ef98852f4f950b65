"""`pytest-syncer up` and `pytest-syncer down`: the harness's environment for a person's shell.

`up` builds the same `SyncerEnvironment` the fixtures use, as real processes, says on stderr
what it is starting, prints how to reach it, writes `environment.json` into its directory and
keeps everything running until Ctrl-C or SIGTERM. `down DIR` stops an `up` from another shell,
or an environment `pytest --syncer-keep` left running.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from pytest_syncer.harness.config import (
    DEFAULT_APISERVERS,
    PROVIDERS,
    HarnessConfigError,
    auto_apiservers,
)
from pytest_syncer.harness.environment_file import (
    EnvironmentFacts,
    EnvironmentFileError,
)
from pytest_syncer.harness.waiting import WaitTimeout, wait_until
from pytest_syncer.process.child import sigterm_interrupts
from pytest_syncer.process.proc import pid_alive

DOWN_TIMEOUT = 60.0
"""How long `down` lets `up` stop its processes before it kills what is left."""
PROGRESS_INTERVAL = 0.5
STARTING_FILE = "up.pid"
"""`up` writes its pid here before it starts anything, so `down` can stop an environment that
is still starting (a thousand targets take minutes) and has no `environment.json` yet."""

STAGES = (
    ("apiserver.log", "the API server"),
    ("simulate.log", "the simulator"),
    ("hub.log", "the hub"),
    ("syncer-*.log", "the syncers (waiting for their first heartbeats)"),
)
"""What `up` is starting, told by the log file each process opens first."""


def _say(message: str) -> None:
    print(f"pytest-syncer up: {message}", file=sys.stderr, flush=True)


class _Progress:
    """Tell the person what is starting while `SyncerEnvironment.start` blocks."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._began = time.monotonic()

    def __enter__(self) -> _Progress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        told: set[str] = set()
        while not self._done.wait(PROGRESS_INTERVAL):
            for pattern, what in STAGES:
                if pattern not in told and any(self._workdir.glob(pattern)):
                    told.add(pattern)
                    _say(f"starting {what} ({time.monotonic() - self._began:.1f}s)")


def _up_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytest-syncer up",
        description="Start the harness's environment (clusters, hub, syncers, simulator) for "
        "your shell; Ctrl-C or `pytest-syncer down DIR` stops every process.",
    )
    parser.add_argument("--targets", type=int, default=5, help="sync targets (default 5)")
    parser.add_argument("--provider", choices=PROVIDERS, default="embedded")
    parser.add_argument("--kubeconfig", help="provider kubeconfig: its kubeconfig")
    parser.add_argument("--kind-clusters", help="provider kind: how many kind clusters")
    parser.add_argument(
        "--apiservers",
        help="provider embedded: how many API server processes, N or auto "
        f"(default {DEFAULT_APISERVERS}: {auto_apiservers()} on this machine)",
    )
    parser.add_argument("--syncer-command", help="run this syncer instead of the reference one")
    parser.add_argument(
        "--crds",
        help="CRD files or folders (comma-separated) installed upstream and on every target; "
        "the syncers sync their custom resources too",
    )
    parser.add_argument("--timeout", default="60", help="seconds each startup wait allows")
    parser.add_argument(
        "--dir", type=Path, help="where the environment lives (default: a new temporary dir)"
    )
    return parser


def up(argv: list[str]) -> int:
    args = _up_parser().parse_args(argv)
    from pytest_syncer.harness.clusters.registry import make_provider
    from pytest_syncer.harness.config import resolve
    from pytest_syncer.harness.environment import SyncerEnvironment

    values = {
        "syncer_provider": args.provider,
        "syncer_targets": str(args.targets),
        "syncer_kubeconfig": args.kubeconfig,
        "syncer_kind_clusters": args.kind_clusters,
        "syncer_apiservers": args.apiservers,
        "syncer_command": args.syncer_command,
        "syncer_timeout": args.timeout,
        "syncer_crds": args.crds,
    }
    try:
        config = resolve(values, {name for name, value in values.items() if value is not None})
    except HarnessConfigError as error:
        print(f"pytest-syncer up: {error}", file=sys.stderr)
        return 2
    directory = args.dir or Path(tempfile.mkdtemp(prefix="pytest-syncer-up-"))
    directory = directory.absolute()
    try:
        running = EnvironmentFacts.read(directory).live_pids()
    except EnvironmentFileError:
        running = []
    if running:
        print(
            f"pytest-syncer up: an environment already runs in {directory} (pids {running}); "
            f"stop it with `pytest-syncer down {directory}`",
            file=sys.stderr,
        )
        return 1
    directory.mkdir(parents=True, exist_ok=True)
    starting = directory / STARTING_FILE
    starting.write_text(f"{os.getpid()}\n")
    env: SyncerEnvironment | None = None
    try:
        with sigterm_interrupts():
            servers = f", {config.apiservers} API server processes" if config.apiservers > 1 else ""
            _say(
                f"starting {config.targets} targets on provider {config.provider}{servers} "
                f"in {directory}"
            )
            began = time.monotonic()
            with _Progress(directory):
                env = SyncerEnvironment.start(config, make_provider(config), directory)
            facts = env.describe(directory, os.getpid(), round(time.monotonic() - began, 1))
            facts.write(directory)
            _announce(facts, directory)
            while True:
                signal.pause()
    except KeyboardInterrupt:
        _say("stopping")
    finally:
        if env is not None:
            env.close()
        starting.unlink(missing_ok=True)
        _say("stopped every process")
    return 0


def _announce(facts: EnvironmentFacts, directory: Path) -> None:
    first = next(iter(facts.targets))
    _say(f"ready: {len(facts.targets)} targets in {facts.ready_seconds}s, hub {facts.hub_url}")
    _say(f"resident memory (MiB): {_memory_summary(facts.processes)}")
    _say(f"upstream kubeconfig: {facts.upstream_kubeconfig}")
    _say(f"target kubeconfigs: {facts.targets[first].kubeconfig} ...")
    _say(f"every path and label: {directory / 'environment.json'}")
    _say(f"place a workload on {first} with the label {facts.targets[first].label}=Sync")
    _say(f"stop with Ctrl-C or `pytest-syncer down {directory}`")
    ready = {
        "dir": str(directory),
        "environment": str(directory / "environment.json"),
        "hub": facts.hub_url,
        "hub_ca": facts.hub_ca,
        "upstream_kubeconfig": facts.upstream_kubeconfig,
        "kubeconfigs": {name: target.kubeconfig for name, target in facts.targets.items()},
        "ready_seconds": facts.ready_seconds,
        "processes": facts.processes,
    }
    sys.stdout.write(json.dumps(ready, sort_keys=True) + "\n")
    sys.stdout.flush()


def _memory_summary(processes: dict[str, dict[str, int]]) -> str:
    """`apiserver 812, hub 90, syncer-pool1 150, ..., total 1300`: every process's VmRSS."""
    mib = {name: facts["rss_kib"] / 1024 for name, facts in processes.items()}
    each = ", ".join(f"{name} {value:.0f}" for name, value in mib.items())
    return f"{each}, total {sum(mib.values()):.0f}"


def stop_environment(facts: EnvironmentFacts, timeout: float) -> bool:
    """Stop what `facts` records: SIGTERM its `up` process or, when none owns it (an
    environment pytest kept or shared between xdist workers), each process group; SIGKILL
    what still runs after `timeout`. False when something had to be killed."""
    if pid_alive(facts.pid):
        os.kill(facts.pid, signal.SIGTERM)
    else:
        for group in facts.live_pids():
            os.killpg(group, signal.SIGTERM)
    try:
        wait_until(
            facts.live_pids,
            lambda alive: not alive,
            what="the environment's processes to stop",
            timeout=timeout,
            interval=0.1,
        )
    except WaitTimeout:
        for group in facts.process_groups:
            if pid_alive(group):
                os.killpg(group, signal.SIGKILL)
        if pid_alive(facts.pid):
            os.kill(facts.pid, signal.SIGKILL)
        return False
    return True


def down(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="pytest-syncer down",
        description="Stop the environment `pytest-syncer up --dir DIR` started, or one "
        "`pytest --syncer-keep` left running.",
    )
    parser.add_argument(
        "dir", type=Path, help="the directory `pytest-syncer up` or the pytest summary printed"
    )
    parser.add_argument("--timeout", type=float, default=DOWN_TIMEOUT)
    args = parser.parse_args(argv)
    try:
        facts = EnvironmentFacts.read(args.dir)
    except EnvironmentFileError as error:
        starting = _starting_up(args.dir)
        if starting is None:
            print(f"pytest-syncer down: {error}", file=sys.stderr)
            return 1
        return _stop_starting(starting, args.dir, args.timeout)
    if not facts.live_pids():
        print(f"pytest-syncer down: nothing runs in {args.dir}", file=sys.stderr)
        return 0
    if not stop_environment(facts, args.timeout):
        print(
            f"pytest-syncer down: killed what was still running after {args.timeout:g}s",
            file=sys.stderr,
        )
    print(f"pytest-syncer down: stopped the environment in {args.dir}", file=sys.stderr)
    return 0


def _starting_up(directory: Path) -> int | None:
    """The pid of an `up` still starting in `directory`, else None."""
    try:
        pid = int((directory / STARTING_FILE).read_text())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def _stop_starting(pid: int, directory: Path, timeout: float) -> int:
    """SIGTERM an `up` that is still starting: it stops what it started so far, as on Ctrl-C."""
    os.kill(pid, signal.SIGTERM)
    try:
        wait_until(
            lambda: pid_alive(pid),
            lambda alive: not alive,
            what=f"`pytest-syncer up` (pid {pid}) to stop what it was starting",
            timeout=timeout,
            interval=0.1,
        )
    except WaitTimeout as error:
        print(f"pytest-syncer down: {error}", file=sys.stderr)
        return 1
    print(f"pytest-syncer down: stopped the environment starting in {directory}", file=sys.stderr)
    return 0
