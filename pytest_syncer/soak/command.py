"""`pytest-syncer soak`: start an environment, run the churn and the faults side by side, heal,
wait for the audit to converge and print the figures.

The last stdout line is one JSON object; progress goes to stderr. Exit 1 when anything was lost,
duplicated or orphaned or the environment did not converge, 130 on Ctrl-C or SIGTERM; every
process is stopped either way.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from pytest_syncer.harness.config import HarnessConfigError
from pytest_syncer.harness.environment import SyncerEnvironment
from pytest_syncer.harness.waiting import WaitTimeout, wait_until
from pytest_syncer.process.child import sigterm_interrupts
from pytest_syncer.soak.audit import Audit, Auditor
from pytest_syncer.soak.churn import Churn
from pytest_syncer.soak.faults import FAULT_KINDS, FaultInjector
from pytest_syncer.soak.progress import say

PROGRESS_INTERVAL = 10.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytest-syncer soak",
        description="Start an environment, churn upstream objects while faults drawn from the "
        "seed hit it, heal, wait for convergence and audit every target; print one JSON line.",
    )
    parser.add_argument("--targets", type=int, default=5, help="sync targets (default 5)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of churn (60)")
    parser.add_argument("--seed", type=int, default=1, help="seed of churn and faults (1)")
    parser.add_argument("--rate", type=float, default=4.0, help="churn operations per second (4)")
    parser.add_argument(
        "--fault-gap", type=float, default=6.0, help="mean seconds between faults (6)"
    )
    parser.add_argument(
        "--converge-timeout", type=float, default=300.0, help="seconds to converge (300)"
    )
    parser.add_argument("--dir", type=Path, help="where the environment lives (default: temp)")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from pytest_syncer.harness.clusters.registry import make_provider
    from pytest_syncer.harness.config import resolve

    values = {"syncer_targets": str(args.targets), "syncer_seed": str(args.seed)}
    try:
        config = resolve(
            {**values, "syncer_provider": "embedded", "syncer_network_faults": "on"}, set(values)
        )
    except HarnessConfigError as error:
        say(str(error))
        return 2
    directory = (args.dir or Path(tempfile.mkdtemp(prefix="pytest-syncer-soak-"))).absolute()
    env: SyncerEnvironment | None = None
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        with sigterm_interrupts():
            say(f"starting {args.targets} targets in {directory}")
            began = time.monotonic()
            env = SyncerEnvironment.start(config, make_provider(config), directory)
            say(f"environment up in {time.monotonic() - began:.1f}s")
            result = _soak(env, args, stop, threads)
    except KeyboardInterrupt:
        say("interrupted; stopping every process")
        return 130
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
        if env is not None:
            env.close()
        say("stopped every process")
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()
    failed = result["lost"] or result["duplicated"] or result["orphaned"]
    return 1 if failed or not result["converged"] or result.get("error") else 0


def _soak(
    env: SyncerEnvironment,
    args: argparse.Namespace,
    stop: threading.Event,
    threads: list[threading.Thread],
) -> dict[str, Any]:
    rng = random.Random(args.seed)
    churn = Churn(
        env,
        random.Random(rng.random()),
        rate=args.rate,
        population=max(12, env.size),
    )
    churn.prepare()
    injector = FaultInjector(env, churn, random.Random(rng.random()), gap=args.fault_gap)
    threads += [
        threading.Thread(target=churn.run, args=(stop,), name="churn", daemon=True),
        threading.Thread(target=injector.run, args=(stop,), name="faults", daemon=True),
    ]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    # The churn goes on past --duration until every fault kind has come once.
    while (remaining := args.duration - _since(began)) > 0 or not injector.done_once:
        time.sleep(min(PROGRESS_INTERVAL, max(remaining, 1.0)))
        say(
            f"{_since(began):.0f}s: {sum(churn.operations.values())} operations, "
            f"{len(churn.live())} objects, faults {dict(injector.counts)}"
        )
    stop.set()
    churned = _since(began)
    for thread in threads:
        thread.join()
    quiet = max(injector.last_healed, churn.last_operation)
    say(f"churn and faults stopped after {_since(began):.0f}s; waiting for convergence")
    auditor = Auditor(env, churn)
    told = [time.monotonic()]

    def look() -> Audit:
        seen = auditor.look()
        if not seen.converged and time.monotonic() - told[0] >= PROGRESS_INTERVAL:
            told[0] = time.monotonic()
            say(f"not converged yet: {seen!r}")
        return seen

    try:
        audit = wait_until(
            look,
            lambda seen: seen.converged,
            what="every object mirrored on exactly its targets, no orphan, every aggregate right",
            timeout=args.converge_timeout,
            interval=1.0,
        )
        converge_s: float | None = round(time.monotonic() - quiet, 2)
    except WaitTimeout as timeout:
        say(str(timeout))
        audit = auditor.look()
        converge_s = None
    say(repr(audit))
    result: dict[str, Any] = {
        "targets": env.size,
        "duration_s": round(churned, 1),
        "seed": args.seed,
        "operations": sum(churn.operations.values()),
        "operations_by_kind": dict(churn.operations),
        "operations_failed": churn.failed,
        "faults": {kind: injector.counts[kind] for kind in FAULT_KINDS},
        "conflicts_409": injector.conflicts,
        "freezes_stale": injector.freezes_stale,
        "objects_checked": audit.checked,
        "lost": len(audit.lost),
        "duplicated": len(audit.duplicated),
        "orphaned": len(audit.orphaned),
        "converged": audit.converged,
        "unfinished": len(audit.pending),
        "converge_s": converge_s,
        "loadavg": [round(value, 2) for value in os.getloadavg()],
        "dir": str(env.workdir),
    }
    errors = [error for error in (churn.error, injector.error) if error is not None]
    if errors:
        result["error"] = "; ".join(f"{type(error).__name__}: {error}" for error in errors)
    return result


def _since(began: float) -> float:
    return time.monotonic() - began
