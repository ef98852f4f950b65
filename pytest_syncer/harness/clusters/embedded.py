"""The default provider: one embedded API server process serving the upstream workspace and a
logical cluster per target, and the simulator playing those clusters' controllers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pytest_syncer.harness.clusters.base import ProvidedClusters
from pytest_syncer.process.parent import ServiceProcess

UPSTREAM = "upstream"
STARTUP_TIMEOUT = 120.0
SIMULATOR_TIME_SCALE = 0.2
"""The simulator's delays, shrunk so the slow profile still shows and tests stay quick."""


class EmbeddedProvider:
    """`pytest-syncer apiserver` on a data dir (so it can restart), and `pytest-syncer simulate`."""

    name = "embedded"

    def __init__(self, *, simulate: bool = True) -> None:
        self._simulate = simulate
        self._apiserver: ServiceProcess | None = None
        self._simulator: ServiceProcess | None = None
        self._args: list[str] = []
        self._workdir: Path | None = None

    def _start_apiserver(self, args: list[str]) -> dict[str, object]:
        assert self._workdir is not None
        self._apiserver = ServiceProcess(
            "apiserver",
            args,
            log_path=self._workdir / "apiserver.log",
            startup_timeout=STARTUP_TIMEOUT,
        )
        return self._apiserver.start()

    def start(self, workdir: Path, targets: Sequence[str]) -> ProvidedClusters:
        self._workdir = workdir
        if UPSTREAM in targets:
            raise ValueError(f"a target may not be named {UPSTREAM!r}: that is the workspace")
        self._args = [
            f"--clusters={','.join([UPSTREAM, *targets])}",
            f"--kubeconfig-dir={workdir / 'kubeconfigs'}",
            f"--data-dir={workdir / 'apiserver-data'}",
            "--watch-retention=600",
        ]
        ready = self._start_apiserver(self._args)
        kubeconfigs = {name: Path(path) for name, path in dict(ready["kubeconfigs"]).items()}  # type: ignore[call-overload]
        port = str(ready["url"]).rsplit(":", 1)[1]
        self._args.append(f"--port={port}")
        profiles: Path | None = None
        if self._simulate:
            profiles = workdir / "profiles.json"
            write_profiles(profiles, {"default": "healthy", "clusters": {}})
            listing = workdir / "clusters.txt"
            listing.write_text("".join(f"{kubeconfigs[name]}\n" for name in targets))
            self._simulator = ServiceProcess(
                "simulate",
                [
                    f"--kubeconfig-list={listing}",
                    f"--admin-kubeconfig={ready['admin']}",
                    f"--profiles-file={profiles}",
                    f"--time-scale={SIMULATOR_TIME_SCALE}",
                    "--controllers",
                ],
                log_path=workdir / "simulate.log",
                startup_timeout=STARTUP_TIMEOUT,
            )
            self._simulator.start()
        return ProvidedClusters(
            upstream_kubeconfig=kubeconfigs[UPSTREAM],
            upstream_cluster=UPSTREAM,
            downstream_kubeconfigs={name: kubeconfigs[name] for name in targets},
            profiles_file=profiles,
            facts={"apiserver": str(ready["url"]), "clusters": str(len(targets) + 1)},
        )

    def restart_apiserver(self) -> None:
        """Stop the API server cleanly and start it on the same port and data dir: every
        client's URL and credentials stay valid."""
        if self._apiserver is None:
            raise RuntimeError("the embedded API server is not started")
        self._apiserver.stop()
        self._start_apiserver(self._args)

    def pids(self) -> list[int]:
        return [p.pid for p in (self._apiserver, self._simulator) if p is not None and p.running]

    def stop(self) -> None:
        for process in (self._simulator, self._apiserver):
            if process is not None:
                process.stop()


def write_profiles(path: Path, profiles: dict[str, object]) -> None:
    """Replace the simulator's profiles file atomically (it re-reads it on change)."""
    staging = path.with_suffix(".tmp")
    staging.write_text(json.dumps(profiles))
    staging.replace(path)
