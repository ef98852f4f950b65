"""`environment.json`: what `pytest-syncer up` writes into its directory for the others (and
what pytest writes for an environment it keeps or shares between xdist workers).

`pytest-syncer down DIR` reads the pids in it; `locust -f loadtests --syncer-env DIR` reads the
hub URL, the kubeconfigs and the profiles file. Standard library only, so locust's gevent
process can read it without importing asyncio code.

    {"version": 1, "pid": 4242, "process_groups": [4250, 4261],
     "provider": "embedded", "started": "2026-11-25T11:20:00Z",
     "hub": {"url": "https://127.0.0.1:40123", "ca": "DIR/hub-state/ca.crt"},
     "upstream": {"cluster": "upstream", "kubeconfig": "DIR/kubeconfigs/upstream.kubeconfig"},
     "targets": {"target-000": {"kubeconfig": "...", "key": "...", "label": "...", "uid": "..."}},
     "profiles_file": "DIR/profiles.json", "ready_seconds": 41.2,
     "processes": {"apiserver": {"pid": 4250, "rss_kib": 812000}, "hub": {...}, ...},
     "wildcards": [{"kubeconfig": "DIR/kubeconfigs/apiserver-1/admin.kubeconfig",
                    "context": "*", "targets": {"target-000": "target-000", ...}}]}

`processes` is each process's resident memory (VmRSS) when the environment became ready.
`wildcards` (embedded provider only; absent from older files) is, per API server process
serving targets, the admin context that lists and watches across its logical clusters, so a
reader can watch all of a process's targets with one request instead of one per target.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pytest_syncer.process.proc import pid_alive

FILE_NAME = "environment.json"
VERSION = 1


class EnvironmentFileError(RuntimeError):
    """The directory holds no readable environment written by `pytest-syncer up`."""


@dataclass(frozen=True)
class TargetFacts:
    """One sync target: its downstream kubeconfig, key, placement label and SyncTarget uid."""

    kubeconfig: str
    key: str
    label: str
    uid: str


@dataclass(frozen=True)
class WildcardFacts:
    """A kubeconfig context whose server is one API server process's `/clusters/*`, and which
    target each of that process's logical clusters is (`{cluster: target}`; the upstream and
    any other cluster that is no target are left out)."""

    kubeconfig: str
    context: str
    targets: dict[str, str]


@dataclass(frozen=True)
class EnvironmentFacts:
    """Everything a person or a load test needs to reach a running environment."""

    pid: int
    process_groups: list[int]
    provider: str
    started: str
    hub: dict[str, str]
    upstream: dict[str, str]
    targets: dict[str, TargetFacts]
    profiles_file: str | None
    version: int = VERSION
    ready_seconds: float | None = None
    """How long the environment took to start, when the writer timed it."""
    processes: dict[str, dict[str, int]] = field(default_factory=dict)
    """Each process by name: its pid and resident memory in KiB when it was ready."""
    wildcards: list[WildcardFacts] = field(default_factory=list)
    """Where the provider has them, the admin contexts that watch across targets' clusters."""

    @property
    def hub_url(self) -> str:
        return self.hub["url"]

    @property
    def hub_ca(self) -> str:
        return self.hub["ca"]

    @property
    def upstream_kubeconfig(self) -> str:
        return self.upstream["kubeconfig"]

    @property
    def upstream_cluster(self) -> str:
        return self.upstream["cluster"]

    def write(self, directory: Path) -> Path:
        """Write atomically, so a reader never sees half a file."""
        path = directory / FILE_NAME
        staging = path.with_suffix(".tmp")
        staging.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")
        staging.replace(path)
        return path

    @classmethod
    def read(cls, directory: Path) -> EnvironmentFacts:
        path = directory / FILE_NAME
        try:
            raw: dict[str, Any] = json.loads(path.read_text())
        except FileNotFoundError:
            raise EnvironmentFileError(
                f"{path} does not exist: start an environment with `pytest-syncer up --dir "
                f"{directory}`"
            ) from None
        except (OSError, ValueError) as error:
            raise EnvironmentFileError(f"{path} is not readable: {error}") from None
        if raw.get("version") != VERSION:
            raise EnvironmentFileError(
                f"{path} has version {raw.get('version')!r}; this pytest-syncer reads {VERSION}"
            )
        try:
            targets = {name: TargetFacts(**facts) for name, facts in raw.pop("targets").items()}
            wildcards = [WildcardFacts(**facts) for facts in raw.pop("wildcards", [])]
            return cls(targets=targets, wildcards=wildcards, **raw)
        except (KeyError, TypeError) as error:
            raise EnvironmentFileError(f"{path} lacks or has unknown fields: {error}") from None

    def live_pids(self) -> list[int]:
        """The recorded processes (the `up` process and its process groups) still running."""
        return [pid for pid in [self.pid, *self.process_groups] if pid_alive(pid)]
