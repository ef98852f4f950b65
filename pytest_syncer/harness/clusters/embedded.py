"""The default provider: embedded API server processes serving the upstream workspace and a
logical cluster per target, and the simulator playing those clusters' controllers.

With one API server process (the default on a small machine) it serves every cluster; with N
the upstream has process 0 to itself and the targets are spread over processes 1..N-1 in
contiguous blocks, each process on its own data dir, port and serving certificate, signed by
one CA, so a bigger machine scales by processes and each process restarts on its own.
"""

from __future__ import annotations

import concurrent.futures
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pytest_syncer.harness.clusters.base import ProvidedClusters, Wildcard
from pytest_syncer.process.parent import ServiceProcess

UPSTREAM = "upstream"
WILDCARD_CONTEXT = "*"
"""The admin kubeconfig's context whose server is `/clusters/*` (`apiserver/server.py`)."""
STARTUP_TIMEOUT = 120.0
SIMULATOR_TIME_SCALE = 0.2
"""The simulator's delays, shrunk so the slow profile still shows and tests stay quick."""


def spread(targets: Sequence[str], processes: int) -> list[list[str]]:
    """The clusters each API server process serves: all in one, else the upstream alone in
    process 0 and the targets in contiguous blocks over the others (no process left empty)."""
    if processes <= 1 or not targets:
        return [[UPSTREAM, *targets]]
    blocks = min(processes - 1, len(targets))
    size, extra = divmod(len(targets), blocks)
    served: list[list[str]] = [[UPSTREAM]]
    start = 0
    for index in range(blocks):
        end = start + size + (1 if index < extra else 0)
        served.append(list(targets[start:end]))
        start = end
    return served


@dataclass
class _APIServer:
    """One `pytest-syncer apiserver` process: its clusters, files and, once started, port."""

    index: int
    clusters: list[str]
    workdir: Path
    process: ServiceProcess | None = None
    port: str | None = None
    url: str = ""
    kubeconfigs: dict[str, Path] = field(default_factory=dict)
    #: Its admin kubeconfig (a context per cluster and `*`, the wildcard), once started.
    admin: Path | None = None

    @property
    def name(self) -> str:
        return "apiserver" if self.index == 0 else f"apiserver-{self.index}"

    @property
    def data_dir(self) -> Path:
        return self.workdir / f"{self.name}-data"

    @property
    def kubeconfig_dir(self) -> Path:
        """Process 0 writes into `kubeconfigs/` as it always did; the others into a folder
        each, so their `admin.kubeconfig` files do not overwrite one another."""
        base = self.workdir / "kubeconfigs"
        return base if self.index == 0 else base / self.name

    def args(self) -> list[str]:
        return [
            f"--clusters={','.join(self.clusters)}",
            f"--kubeconfig-dir={self.kubeconfig_dir}",
            f"--data-dir={self.data_dir}",
            "--watch-retention=600",
            *([f"--port={self.port}"] if self.port is not None else []),
        ]

    def start(self) -> None:
        """Start (or start again, on the same port and data dir) and wait until it serves."""
        self.process = ServiceProcess(
            "apiserver",
            self.args(),
            log_path=self.workdir / f"{self.name}.log",
            startup_timeout=STARTUP_TIMEOUT,
        )
        ready = self.process.start()
        self.url = str(ready["url"])
        self.port = self.url.rsplit(":", 1)[1]
        self.kubeconfigs = {name: Path(path) for name, path in dict(ready["kubeconfigs"]).items()}
        self.admin = Path(str(ready["admin"]))

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def wildcard(self) -> Wildcard | None:
        """Its admin's `/clusters/*` context for the targets it serves (each cluster is the
        target of its name), or None when it serves none (only the upstream)."""
        served = {name: name for name in self.clusters if name != UPSTREAM}
        if self.admin is None or not served:
            return None
        return Wildcard(self.admin, WILDCARD_CONTEXT, served)


def _each(servers: Sequence[_APIServer], action: str) -> None:
    """Run `start` or `stop` on every server at once, so N processes cost one start-up wait;
    the first error is raised once all are done."""
    if len(servers) == 1:
        getattr(servers[0], action)()
        return
    with concurrent.futures.ThreadPoolExecutor(len(servers)) as pool:
        futures = [pool.submit(getattr(server, action)) for server in servers]
    for future in futures:
        future.result()


def _share_ca(servers: Sequence[_APIServer]) -> None:
    """Give every process's data dir process 0's CA, so one CA signs every serving cert."""
    from pytest_syncer.apiserver.certs import CA_CERT_FILE, CA_KEY_FILE, CertificateAuthority

    CertificateAuthority.load_or_create(servers[0].data_dir)
    for server in servers[1:]:
        server.data_dir.mkdir(parents=True, exist_ok=True)
        for name in (CA_CERT_FILE, CA_KEY_FILE):
            if not (server.data_dir / name).exists():
                shutil.copy2(servers[0].data_dir / name, server.data_dir / name)


class EmbeddedProvider:
    """`pytest-syncer apiserver` processes on data dirs (so each can restart), and
    `pytest-syncer simulate`."""

    name = "embedded"

    def __init__(self, *, simulate: bool = True, apiservers: int = 1) -> None:
        if apiservers < 1:
            raise ValueError(f"at least one API server process, not {apiservers}")
        self._simulate = simulate
        self._apiservers = apiservers
        self._servers: list[_APIServer] = []
        self._simulator: ServiceProcess | None = None

    def start(self, workdir: Path, targets: Sequence[str]) -> ProvidedClusters:
        if UPSTREAM in targets:
            raise ValueError(f"a target may not be named {UPSTREAM!r}: that is the workspace")
        self._servers = [
            _APIServer(index, clusters, workdir)
            for index, clusters in enumerate(spread(targets, self._apiservers))
        ]
        if len(self._servers) > 1:
            _share_ca(self._servers)
        try:
            _each(self._servers, "start")
        except BaseException:
            _each(self._servers, "stop")
            raise
        kubeconfigs = {name: path for s in self._servers for name, path in s.kubeconfigs.items()}
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
                    *(f"--admin-kubeconfig={server.admin}" for server in self._servers),
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
            wildcards=tuple(filter(None, (server.wildcard() for server in self._servers))),
            facts={
                "apiserver": ", ".join(server.url for server in self._servers),
                "apiserver processes": str(len(self._servers)),
                "clusters": str(len(targets) + 1),
            },
        )

    def _serving(self, cluster: str) -> _APIServer:
        for server in self._servers:
            if cluster in server.clusters:
                return server
        raise KeyError(f"no API server process serves {cluster!r}")

    def restart_apiserver(self, cluster: str | None = None) -> list[str]:
        """Stop the API server process serving `cluster` (every process when None) cleanly
        and start it on the same port and data dir: every client's URL and credentials stay
        valid. Returns the clusters that were down."""
        if not self._servers:
            raise RuntimeError("the embedded API server is not started")
        servers = self._servers if cluster is None else [self._serving(cluster)]
        _each(servers, "stop")
        _each(servers, "start")
        return [name for server in servers for name in server.clusters]

    def apiserver_pid(self, cluster: str) -> int:
        """The pid of the API server process serving `cluster`."""
        process = self._serving(cluster).process
        if process is None:
            raise RuntimeError("the embedded API server is not started")
        return process.pid

    def pids(self) -> list[int]:
        processes = [*(server.process for server in self._servers), self._simulator]
        return [p.pid for p in processes if p is not None and p.running]

    def stop(self) -> None:
        if self._simulator is not None:
            self._simulator.stop()
        if self._servers:
            _each(self._servers, "stop")


def write_profiles(path: Path, profiles: dict[str, object]) -> None:
    """Replace the simulator's profiles file atomically (it re-reads it on change)."""
    staging = path.with_suffix(".tmp")
    staging.write_text(json.dumps(profiles))
    staging.replace(path)
