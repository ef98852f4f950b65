"""What a failing test leaves to look at: its window of every process's log and the objects
its workloads touched, upstream and on every target, with every secret taken out.

The log window is cut by file offset: the size of each log when the test got its environment,
to its size when the test failed, so a shared environment's earlier tests never show.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import yaml

from pytest_syncer.contract.naming import sync_status_name
from pytest_syncer.harness.environment import SyncerEnvironment
from pytest_syncer.harness.kube import SYNC_STATUSES, KubeObject
from pytest_syncer.harness.workloads import WorkloadFactory

REDACTED = "<redacted>"
TAIL_LINES = 30
TARGETS_READ = 20
"""Targets whose copy and SyncStatus a failing test's artifacts read per workload: two GETs
each, one after the other; reading every target of a 200-target environment for every workload
took over pytest-timeout's 300 s on a loaded machine and ended the session."""
"""Lines of each log shown in the failure report; the whole window is in the files."""
PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?im)((?:^|\s|\")(?:token|client-key-data|password)\"?\s*[:=]\s*\"?)[^\s\",]+"),
)
"""Bearer tokens in headers and `token:` fields (kubeconfigs, JSON), whoever wrote them."""


class Redactor:
    """Takes the environment's own secrets, and anything shaped like a token, out of text."""

    def __init__(self, secrets: list[str]) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    @classmethod
    def of(cls, env: SyncerEnvironment) -> Redactor:
        """The hub's signing secret, every tunnel token, every kubeconfig's credentials."""
        found: list[str] = []
        for path in [env.workdir / "hub-secret", *(env.workdir / "tunnel-tokens").glob("*")]:
            try:
                found.append(path.read_text().strip())
            except OSError:
                continue
        kubeconfigs = {
            env.clusters.upstream_kubeconfig,
            *env.clusters.downstream_kubeconfigs.values(),
        }
        for kubeconfig in kubeconfigs:
            try:
                loaded = yaml.safe_load(kubeconfig.read_text()) or {}
            except (OSError, yaml.YAMLError):
                continue
            for user in loaded.get("users") or []:
                credentials = user.get("user") or {}
                found += [
                    str(credentials[key])
                    for key in ("token", "password", "client-key-data")
                    if credentials.get(key)
                ]
        return cls(found)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for pattern in PATTERNS:
            text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
        return text

    def object(self, obj: KubeObject) -> KubeObject:
        """A copy without managedFields, a Secret's values redacted."""
        shown: KubeObject = {**obj, "metadata": dict(obj.get("metadata") or {})}
        shown["metadata"].pop("managedFields", None)
        if obj.get("kind") == "Secret":
            for key in ("data", "stringData"):
                if isinstance(obj.get(key), dict):
                    shown[key] = dict.fromkeys(obj[key], REDACTED)
        return shown


@dataclass
class LogWindow:
    """The size of each log of an environment when a test began."""

    workdir: Path
    offsets: dict[str, int] = field(default_factory=dict)

    @classmethod
    def open(cls, env: SyncerEnvironment) -> LogWindow:
        return cls(env.workdir, {path.name: path.stat().st_size for path in env.log_paths()})

    def read(self) -> dict[str, str]:
        """What each log got since; logs created since are read whole."""
        windows: dict[str, str] = {}
        for path in sorted(self.workdir.glob("*.log")):
            with path.open("rb") as log:
                log.seek(self.offsets.get(path.name, 0))
                text = log.read().decode(errors="replace")
            if text:
                windows[path.name] = text
        return windows


@dataclass
class Artifacts:
    """The files written for one failing test, and the report's text about them."""

    directory: Path
    files: list[Path]
    sections: list[tuple[str, str]]


def _slug(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[:150] or "test"


def _read(get: Callable[[], KubeObject | None]) -> KubeObject | str | None:
    try:
        return get()
    except Exception as error:
        return f"could not read: {type(error).__name__}: {error}"


def _named_first(targets: list[str], failure: str) -> list[str]:
    """The targets the failure's text names (the ones a wait found wrong), then the others."""
    named = [
        target
        for target in targets
        if re.search(rf"(?<![\w-]){re.escape(target)}(?![\w-])", failure)
    ]
    return named + [target for target in targets if target not in named]


def _objects(
    env: SyncerEnvironment, factory: WorkloadFactory, failure: str = ""
) -> dict[str, KubeObject | str]:
    """Every object the factory's workloads touched: upstream, the copy and the SyncStatus of
    each target it is placed on or was taken off (at most `TARGETS_READ` of them, those the
    `failure` text names first), named `<where>/<Kind>-<namespace>-<name>`."""
    found: dict[str, KubeObject | str | None] = {}
    for workload in factory.created:
        kind, name, namespace = workload.kind, workload.name, workload.namespace
        base = f"{kind.kind}-{namespace}-{name}"
        found[f"upstream/{base}"] = _read(partial(env.upstream.find, kind, name, namespace))
        targets = _named_first(sorted(workload.touched), failure)
        if len(targets) > TARGETS_READ:
            found[f"omitted/{base}"] = (
                f"the copies and SyncStatus objects on {len(targets) - TARGETS_READ} more "
                f"targets were not read (at most {TARGETS_READ} per workload, those the "
                f"failure names first): {', '.join(sorted(targets[TARGETS_READ:]))}\n"
            )
        for target in targets[:TARGETS_READ]:
            found[f"{target}/{base}"] = _read(partial(workload.downstream, target))
            status = sync_status_name(kind.plural, name, target)
            found[f"upstream-syncstatus/{target}/{base}"] = _read(
                partial(env.upstream.find, SYNC_STATUSES, status, namespace)
            )
    return {where: obj for where, obj in found.items() if obj is not None}


def collect(
    env: SyncerEnvironment,
    window: LogWindow,
    factory: WorkloadFactory | None,
    nodeid: str,
    root: Path,
    failure: str = "",
) -> Artifacts:
    """Write the test's log window and objects under `root/<test>/`, redacted; the targets
    the `failure` text names are read first."""
    redact = Redactor.of(env)
    directory = root / _slug(nodeid)
    directory.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    tails: list[str] = []
    for name, text in window.read().items():
        clean = redact(text)
        path = directory / "logs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(clean)
        files.append(path)
        lines = clean.splitlines()
        shown = lines[-TAIL_LINES:]
        cut = f" (last {len(shown)} of {len(lines)} lines)" if len(lines) > len(shown) else ""
        tails.append(f"==> {name}{cut}\n" + "\n".join(shown))
    objects = _objects(env, factory, failure) if factory is not None else {}
    listing: list[str] = []
    for name, obj in objects.items():
        path = directory / "objects" / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = obj if isinstance(obj, str) else yaml.safe_dump(redact.object(obj), sort_keys=False)
        path.write_text(redact(text))
        files.append(path)
        listing.append(f"  {name}")
    sections = [
        (
            "syncer artifacts",
            f"logs of this test's window and {len(objects)} objects in {directory}\n"
            + "\n".join(listing),
        )
    ]
    if tails:
        sections.append(("syncer logs (this test's window)", "\n\n".join(tails)))
    return Artifacts(directory, files, sections)
