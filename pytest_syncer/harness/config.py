"""The harness's settings: every `--syncer-*` option with its ini twin, checked once.

Pure logic with no imports beyond the standard library, so the plugin can read and check the
options in `pytest_configure` without paying for the harness.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from pytest_syncer.contract.wiring import REQUIRED_TEMPLATE_FIELDS, TEMPLATE_FIELDS
from pytest_syncer.harness.conformance.behaviours import PROFILES, parse_profiles
from pytest_syncer.harness.conformance.slo import Objective, parse_slo

PROVIDERS = ("embedded", "kind", "kubeconfig")
DEFAULT_PROVIDER = "embedded"
DEFAULT_TARGETS = 50
"""The size the performance bars are stated for (docs/architecture.md, "Performance bars")."""
DEFAULT_KIND_CLUSTERS = 2
DEFAULT_APISERVERS = "auto"
DEFAULT_TIMEOUT = 60.0
RESYNC_FACTOR = 10
"""The reference syncer's resync period in wait deadlines: no wait lasts long enough for a
resync to rescue a watch event the syncer missed, so a lost event fails the wait."""
DEFAULT_SEED = 12
"""The default seed: every run draws the same targets and faults unless told otherwise."""
POOL_SIZE = 25
"""Targets per pooled syncer process."""
MAX_POOLED_PROCESSES = 10
"""Beyond `POOL_SIZE` x this many targets the pools grow instead: every process pays ~65 MiB
and ~1.5 CPU-s of start-up before its first target, so 1000 targets in 40 pools of 25 cost
2.6 GiB and a minute of CPU on a 2-core machine that 10 pools of 100 do not
(docs/benchmarks.md, "1000 targets")."""


def pool_size_for(targets: int, pool_size: int = POOL_SIZE) -> int:
    """Targets per pooled process for an environment of `targets`: `pool_size`, or more when
    that would take over `MAX_POOLED_PROCESSES` processes."""
    return max(pool_size, -(-targets // MAX_POOLED_PROCESSES))


DEFAULT_CRDS = Path("fixtures") / "crds" / "workloads"
"""Under the rootdir: the CRDs of the custom resources under test, installed when it exists."""
KEEP_CHOICES = ("never", "on-failure", "always")
XDIST_CHOICES = ("per-worker", "shared")
SWITCH = {"on": True, "true": True, "1": True, "off": False, "false": False, "0": False}


class HarnessConfigError(ValueError):
    """Options that contradict each other or cannot be used; the plugin makes it a UsageError."""


@dataclass(frozen=True)
class OptionSpec:
    """One option: its command-line flag, ini name, ini type and help."""

    flag: str
    ini: str
    help: str
    ini_type: str = "string"


OPTIONS = (
    OptionSpec(
        "--syncer-provider",
        "syncer_provider",
        f"where the clusters come from: {', '.join(PROVIDERS)} (default {DEFAULT_PROVIDER})",
    ),
    OptionSpec(
        "--syncer-targets",
        "syncer_targets",
        f"how many sync targets the shared environment has (default {DEFAULT_TARGETS}); "
        "a test marked syncer_targets(n) gets one of size n",
    ),
    OptionSpec(
        "--syncer-apiservers",
        "syncer_apiservers",
        "provider embedded: how many API server processes serve the clusters, N or auto "
        f"(default {DEFAULT_APISERVERS}: one for the upstream and one per core for the targets, "
        "one on a single core); with N > 1 the upstream has process 0 to itself and the "
        "targets are spread over the others",
    ),
    OptionSpec(
        "--syncer-kubeconfig",
        "syncer_kubeconfig",
        "provider kubeconfig: a kubeconfig with a context named 'upstream' and one or more "
        "target contexts (targets are spread over them)",
    ),
    OptionSpec(
        "--syncer-kind-clusters",
        "syncer_kind_clusters",
        f"provider kind: how many kind clusters hold the targets (default {DEFAULT_KIND_CLUSTERS})",
    ),
    OptionSpec(
        "--syncer-command",
        "syncer_command",
        "run this syncer instead of the reference one, one process per target; a template "
        "with {" + "}, {".join(TEMPLATE_FIELDS) + "}",
    ),
    OptionSpec(
        "--syncer-crds",
        "syncer_crds",
        "CRD manifests (files or folders, comma-separated, relative to the rootdir) installed "
        "upstream and on every target's cluster before the syncers start; their namespaced "
        "resources join the syncers' --resources (default: fixtures/crds/workloads/ when it "
        "exists)",
    ),
    OptionSpec(
        "--syncer-timeout",
        "syncer_timeout",
        f"seconds every harness wait allows (default {DEFAULT_TIMEOUT:g})",
    ),
    OptionSpec(
        "--syncer-seed",
        "syncer_seed",
        f"seed of the fault and conflict injection (default {DEFAULT_SEED})",
    ),
    OptionSpec(
        "--syncer-keep",
        "syncer_keep",
        "leave the environment running after the session: never (default), on-failure (an "
        "environment a failing test used) or always; the summary says how to reach and stop it",
    ),
    OptionSpec(
        "--syncer-artifacts",
        "syncer_artifacts",
        "write a failing test's log window and objects under DIR/<test>/ (default: "
        "syncer-artifacts/ under pytest's basetemp)",
    ),
    OptionSpec(
        "--syncer-xdist",
        "syncer_xdist",
        "under pytest-xdist: per-worker (default; each worker builds its own environments) or "
        "shared (one environment per size for all workers; faults and status profiles skip)",
    ),
    OptionSpec(
        "--syncer-network-faults",
        "syncer_network_faults",
        "on: every syncer reaches the upstream, its cluster and the hub's tunnel through a "
        "fault proxy of the harness, one link each, so faults.link(...) can slow, cut or reset "
        "it; off (default)",
    ),
    OptionSpec(
        "--syncer-network-latency",
        "syncer_network_latency",
        "MS or MS+JITTER: the latency (and up to JITTER more, seeded) every link of "
        "--syncer-network-faults has when healthy, each way; heal() returns to it (default 0)",
    ),
    OptionSpec(
        "--syncer-profile",
        "syncer_profile",
        f"run only the conformance tests of these profiles, comma-separated: "
        f"{', '.join(PROFILES)} (default: all)",
    ),
    OptionSpec(
        "--syncer-report",
        "syncer_report",
        "write the conformance report as JSON to FILE and as an HTML page beside it "
        "(FILE with the suffix .html)",
    ),
    OptionSpec(
        "--syncer-slo",
        "syncer_slo",
        "fail the run when a measured latency percentile is over its objective, e.g. "
        "sync-p99=5s,status-p99=2s (default: off)",
    ),
)


def auto_apiservers(cpus: int | None = None) -> int:
    """`--syncer-apiservers auto` on this machine (or on `cpus` cores): the upstream's process
    and one per core for the targets; one on a single core, where processes cannot run side
    by side. docs/benchmarks.md ("API server processes") has the figures behind it: on 2
    cores, 3 processes synced more placements with a lower p99 than 1 or 2."""
    cores = cpus or os.cpu_count() or 1
    return 1 if cores == 1 else cores + 1


@dataclass(frozen=True)
class HarnessConfig:
    """What the environment is built from."""

    provider: str = DEFAULT_PROVIDER
    targets: int = DEFAULT_TARGETS
    kubeconfig: Path | None = None
    kind_clusters: int = DEFAULT_KIND_CLUSTERS
    apiservers: int = field(default_factory=auto_apiservers)
    """`--syncer-apiservers`, `auto` already turned into a count for this machine."""
    command: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    seed: int = DEFAULT_SEED
    keep: str = "never"
    artifacts: Path | None = None
    xdist: str = "per-worker"
    crds: tuple[Path, ...] = ()
    """CRD manifest files and folders (`--syncer-crds`), absolute."""
    network_faults: bool = False
    """Every syncer link goes through the harness's fault proxy (`--syncer-network-faults`)."""
    network_latency: tuple[float, float] = (0.0, 0.0)
    """Milliseconds of latency and jitter every healthy link has (`--syncer-network-latency`)."""
    profiles: tuple[str, ...] = ()
    """`--syncer-profile`: the conformance profiles to run; empty: all."""
    report: Path | None = None
    """`--syncer-report`: the conformance report's JSON file, absolute."""
    slo: tuple[Objective, ...] = ()
    """`--syncer-slo`: the service levels checked at the end of the run; empty: none."""

    def with_targets(self, targets: int) -> HarnessConfig:
        return replace(self, targets=targets)

    @property
    def resync_period(self) -> float:
        """Seconds between the reference syncer's resyncs: `RESYNC_FACTOR` wait deadlines."""
        return RESYNC_FACTOR * self.timeout

    def resync_line(self) -> str:
        """What the run says about resync against the waits' deadline (the report header)."""
        if self.command is not None:
            return (
                "syncer resync: set by --syncer-command, unknown to the harness; a resync "
                f"within the {self.timeout:g}s wait deadline would hide a missed watch event"
            )
        return (
            f"syncer resync: {self.resync_period:g}s, {RESYNC_FACTOR}x the {self.timeout:g}s "
            "wait deadline: a watch event the syncer misses fails the wait, no resync "
            "rescues it"
        )


def _number(name: str, text: str, cast: Callable[[str], float], minimum: float) -> float:
    try:
        value = cast(text)
    except ValueError:
        raise HarnessConfigError(f"{name} must be a number, not {text!r}") from None
    if value < minimum:
        raise HarnessConfigError(f"{name} must be at least {minimum:g}, not {text}")
    return value


def _apiservers(text: str | None) -> int:
    text = (text or DEFAULT_APISERVERS).strip()
    if text == "auto":
        return auto_apiservers()
    return int(_number("--syncer-apiservers", text, int, 1))


def template_fields(template: str) -> set[str]:
    """The fields a `--syncer-command` template names."""
    import string

    try:
        return {field for _, field, _, _ in string.Formatter().parse(template) if field}
    except ValueError as error:
        raise HarnessConfigError(f"--syncer-command is not a valid template: {error}") from None


def check_template(template: str) -> None:
    """A `--syncer-command` must name the fields it needs and no others."""
    names = template_fields(template)
    unknown = names - set(TEMPLATE_FIELDS)
    if unknown:
        raise HarnessConfigError(
            f"--syncer-command names unknown fields {sorted(unknown)}; "
            f"known: {', '.join(TEMPLATE_FIELDS)}"
        )
    missing = set(REQUIRED_TEMPLATE_FIELDS) - names
    if missing:
        raise HarnessConfigError(
            f"--syncer-command must pass {', '.join('{' + m + '}' for m in sorted(missing))}"
        )


def _crds(text: str | None, root: Path | None) -> tuple[Path, ...]:
    """The `--syncer-crds` paths, each an existing file or folder; without the option, the
    rootdir's `fixtures/crds/workloads/` when there is one."""
    if text is None:
        default = root / DEFAULT_CRDS if root is not None else None
        return (default,) if default is not None and default.is_dir() else ()
    base = root if root is not None else Path.cwd()
    paths = tuple(base / part.strip() for part in text.split(",") if part.strip())
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise HarnessConfigError(f"--syncer-crds: no such file or folder: {', '.join(missing)}")
    return paths


def _latency(text: str | None) -> tuple[float, float]:
    """`200` or `200+50`: milliseconds of latency and of jitter on top."""
    if not text:
        return 0.0, 0.0
    latency, _, jitter = text.partition("+")
    return (
        _number("--syncer-network-latency", latency.strip(), float, 0),
        _number("--syncer-network-latency jitter", jitter.strip() or "0", float, 0),
    )


def resolve(
    values: Mapping[str, str | None], explicit: set[str], root: Path | None = None
) -> HarnessConfig:
    """Build and check the config from raw option values (command line over ini, already
    merged); `explicit` names the options the user set, so conflicts can be reported; relative
    `--syncer-crds` paths are taken from `root` (the rootdir), else the working directory."""
    provider = values.get("syncer_provider") or DEFAULT_PROVIDER
    if provider not in PROVIDERS:
        raise HarnessConfigError(
            f"--syncer-provider must be one of {', '.join(PROVIDERS)}, not {provider!r}"
        )
    targets = int(
        _number("--syncer-targets", values.get("syncer_targets") or str(DEFAULT_TARGETS), int, 1)
    )
    kind_clusters = int(
        _number(
            "--syncer-kind-clusters",
            values.get("syncer_kind_clusters") or str(DEFAULT_KIND_CLUSTERS),
            int,
            1,
        )
    )
    apiservers = _apiservers(values.get("syncer_apiservers"))
    if "syncer_apiservers" in explicit and provider != "embedded":
        raise HarnessConfigError(
            f"--syncer-apiservers is for --syncer-provider embedded, not {provider}"
        )
    timeout = _number(
        "--syncer-timeout", values.get("syncer_timeout") or str(DEFAULT_TIMEOUT), float, 0.1
    )
    seed = int(_number("--syncer-seed", values.get("syncer_seed") or str(DEFAULT_SEED), int, 0))
    kubeconfig_text = values.get("syncer_kubeconfig")
    kubeconfig = Path(kubeconfig_text) if kubeconfig_text else None
    if provider == "kubeconfig" and kubeconfig is None:
        raise HarnessConfigError("--syncer-provider kubeconfig needs --syncer-kubeconfig PATH")
    if kubeconfig is not None and provider != "kubeconfig":
        raise HarnessConfigError(
            f"--syncer-kubeconfig is for --syncer-provider kubeconfig, not {provider}"
        )
    if "syncer_kind_clusters" in explicit and provider != "kind":
        raise HarnessConfigError(
            f"--syncer-kind-clusters is for --syncer-provider kind, not {provider}"
        )
    command = values.get("syncer_command") or None
    if command is not None:
        check_template(command)
    crds = _crds(values.get("syncer_crds"), root)
    told = command is None or "resources" in template_fields(command)
    if crds and "syncer_crds" in explicit and not told:
        raise HarnessConfigError(
            "--syncer-crds puts custom resources under test, but --syncer-command does not "
            "pass {resources}: the syncer would not be told to sync them"
        )
    keep = values.get("syncer_keep") or "never"
    if keep not in KEEP_CHOICES:
        raise HarnessConfigError(
            f"--syncer-keep must be one of {', '.join(KEEP_CHOICES)}, not {keep!r}"
        )
    artifacts_text = values.get("syncer_artifacts")
    artifacts = Path(artifacts_text).absolute() if artifacts_text else None
    xdist = values.get("syncer_xdist") or "per-worker"
    if xdist not in XDIST_CHOICES:
        raise HarnessConfigError(
            f"--syncer-xdist must be one of {', '.join(XDIST_CHOICES)}, not {xdist!r}"
        )
    network_text = (values.get("syncer_network_faults") or "off").lower()
    if network_text not in SWITCH:
        raise HarnessConfigError(
            f"--syncer-network-faults must be on or off, not {values['syncer_network_faults']!r}"
        )
    network_faults = SWITCH[network_text]
    network_latency = _latency(values.get("syncer_network_latency"))
    if network_latency != (0.0, 0.0) and not network_faults:
        raise HarnessConfigError("--syncer-network-latency needs --syncer-network-faults on")
    if network_faults and keep != "never":
        raise HarnessConfigError(
            f"--syncer-keep {keep} needs --syncer-network-faults off: the fault proxy lives in "
            "the pytest process, so the kept syncers would lose their links when it exits"
        )
    try:
        profile_text, slo_text = values.get("syncer_profile"), values.get("syncer_slo")
        profiles = parse_profiles(profile_text) if profile_text else ()
        slo = parse_slo(slo_text) if slo_text else ()
    except ValueError as error:
        raise HarnessConfigError(str(error)) from None
    report_text = values.get("syncer_report")
    report = Path(report_text).absolute() if report_text else None
    if report is not None and report.suffix == ".html":
        raise HarnessConfigError(
            f"--syncer-report names the JSON file; its HTML page is written beside it "
            f"(not {report.name}: try {report.with_suffix('.json').name})"
        )
    return HarnessConfig(
        provider,
        targets,
        kubeconfig,
        kind_clusters,
        apiservers,
        command,
        timeout,
        seed,
        keep,
        artifacts,
        xdist,
        crds,
        network_faults,
        network_latency,
        profiles,
        report,
        slo,
    )
