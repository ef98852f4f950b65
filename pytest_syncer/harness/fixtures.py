"""The fixtures the plugin registers. Importing this module is cheap: the harness (and aiohttp,
kubernetes) is imported inside the fixtures, when a test first asks for one.

Small config fixtures (`syncer_config`, `syncer_pool_size`, `syncer_manifest_dirs`,
`syncer_cluster_provider`) exist so a user's conftest can override them, as pytest-httpserver
lets users override its listen address.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_syncer.harness.config import POOL_SIZE, HarnessConfig
from pytest_syncer.harness.session_report import SHARED_INPUT, SessionReport, kept_lines

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

    from pytest_syncer.harness.artifacts import LogWindow
    from pytest_syncer.harness.clusters.base import ClusterProvider
    from pytest_syncer.harness.conflicts import Conflicts
    from pytest_syncer.harness.environment import SyncerEnvironment, TargetHandle
    from pytest_syncer.harness.faults import Faults
    from pytest_syncer.harness.leftovers import OwnerRegistry
    from pytest_syncer.harness.profiles import StatusProfiles
    from pytest_syncer.harness.sharing import SharedRun
    from pytest_syncer.harness.tunnel_client import TunnelClient
    from pytest_syncer.harness.workloads import WorkloadFactory

_namespaces = itertools.count(1)
CONFIG_KEY = pytest.StashKey[HarnessConfig]()
"""The checked `--syncer-*` settings, stashed by the plugin at configure time."""
REPORT_KEY = pytest.StashKey[SessionReport]()
"""What this session built, kept and measured, for the plugin's terminal summary."""


@dataclass
class FailureContext:
    """What a failing test's artifacts come from: its environment, the log offsets when it
    got it, its workload factory, and where artifacts go."""

    env: SyncerEnvironment
    window: LogWindow
    artifacts_root: Path
    factory: WorkloadFactory | None = None


CONTEXT_KEY = pytest.StashKey[FailureContext]()


def harness_config(config: pytest.Config) -> HarnessConfig:
    """The checked `--syncer-*` settings of this run."""
    return config.stash[CONFIG_KEY]


SHARED_SKIP = (
    "{what} every pytest-xdist worker shares under --syncer-xdist shared; "
    "run this test with --syncer-xdist per-worker"
)


def session_report(config: pytest.Config) -> SessionReport:
    return config.stash.setdefault(REPORT_KEY, SessionReport())


class EnvironmentCache:
    """One environment per size, built on first use; at the end of the session each is
    stopped, or kept running as `--syncer-keep` says."""

    def __init__(
        self,
        config: HarnessConfig,
        workdir: Path,
        pool_size: int,
        provider: Callable[[HarnessConfig], ClusterProvider],
        report: SessionReport | None = None,
        artifacts_root: Path | None = None,
        shared: SharedRun | None = None,
    ) -> None:
        self.config = config
        self.workdir = workdir
        self.pool_size = pool_size
        self.provider = provider
        self.report = report or SessionReport()
        self.artifacts_root = artifacts_root or config.artifacts or workdir / "artifacts"
        self.shared = shared
        """Set under `--syncer-xdist shared`: environments come from the workers' directory."""
        self.environments: dict[int, SyncerEnvironment] = {}
        self.registries: dict[int, OwnerRegistry] = {}
        self.failures: dict[int, BaseException] = {}
        self.unavailable: str | None = None
        self.built = self.report.built
        """One line per environment built, for the terminal summary."""

    def get(self, size: int) -> SyncerEnvironment:
        from pytest_syncer.harness.clusters.base import ProviderUnavailable
        from pytest_syncer.harness.environment import SyncerEnvironment
        from pytest_syncer.harness.leftovers import OwnerRegistry

        if self.unavailable is not None:
            pytest.skip(self.unavailable)
        if size in self.failures:
            pytest.fail(
                f"the {size}-target environment failed to start before: {self.failures[size]}"
            )
        self.report.used = True
        if size not in self.environments and self.shared is not None:
            self._attach(size)
        if size not in self.environments:
            config = self.config.with_targets(size)
            started = time.monotonic()
            workdir = self.workdir / f"{config.provider}-{size}"
            registry = OwnerRegistry(workdir)
            try:
                self.environments[size] = SyncerEnvironment.start(
                    config,
                    self.provider(config),
                    workdir,
                    pool_size=self.pool_size,
                )
            except ProviderUnavailable as error:
                registry.release()
                self.unavailable = str(error)
                pytest.skip(self.unavailable)
            except Exception as error:
                registry.release()
                self.failures[size] = error
                raise
            self.registries[size] = registry
            facts = self.environments[size].facts()
            self.built.append(
                f"{size}-target environment ({facts['provider']}, "
                f"{facts['syncer processes']} syncer processes) up in "
                f"{time.monotonic() - started:.1f}s; logs in {workdir}"
            )
        environment = self.environments[size]
        if size in self.registries:
            self.registries[size].update(environment.pids())
        return environment

    def _attach(self, size: int) -> None:
        from pytest_syncer.harness.clusters.base import ProviderUnavailable

        assert self.shared is not None
        try:
            environment, line = self.shared.environment(
                self.config.with_targets(size), self.provider, self.pool_size
            )
        except ProviderUnavailable as error:
            self.unavailable = str(error)
            pytest.skip(self.unavailable)
        except Exception as error:
            self.failures[size] = error
            raise
        self.environments[size] = environment
        self.built.append(line)

    def _keeps(self, environment: SyncerEnvironment) -> bool:
        keep = self.config.keep
        return keep == "always" or (keep == "on-failure" and environment.failed)

    def close(self) -> None:
        """Stop each environment, or keep it and say how to reach and stop it."""
        for size, environment in self.environments.items():
            if environment.shared:
                environment.close()
                self.report.stats.merge(environment.stats)
                continue
            registry = self.registries[size]
            if self._keeps(environment):
                facts = environment.keep()
                registry.update(environment.pids(), kept=True)
                why = "a test failed" if environment.failed else "--syncer-keep always"
                self.report.kept += kept_lines(size, why, environment.workdir, facts)
            else:
                environment.close()
                registry.release()
                if self.config.keep != "never":
                    shutil.rmtree(environment.workdir, ignore_errors=True)
            self.report.stats.merge(environment.stats)
        if self.config.keep != "never" and not any(self.workdir.iterdir()):
            self.workdir.rmdir()


@pytest.fixture(scope="session")
def syncer_config(pytestconfig: pytest.Config) -> HarnessConfig:
    """The checked `--syncer-*` options; override to pin settings in a conftest."""
    return harness_config(pytestconfig)


@pytest.fixture(scope="session")
def syncer_pool_size() -> int:
    """Targets per pooled reference syncer process."""
    return POOL_SIZE


@pytest.fixture(scope="session")
def syncer_manifest_dirs(pytestconfig: pytest.Config) -> list[Path]:
    """Where `workload("file.yaml")` looks: the rootdir, its `fixtures/` and
    `fixtures/workloads/`, then the samples shipped in the package."""
    from pytest_syncer.data import shipped

    root = pytestconfig.rootpath
    return [root, root / "fixtures", root / "fixtures" / "workloads", shipped("workloads")]


@pytest.fixture(scope="session")
def syncer_cluster_provider() -> Callable[[HarnessConfig], ClusterProvider]:
    """Makes the provider of an environment from the options; override it to bring your own
    (a `KubeconfigProvider` with your own CRD and RBAC folder, say)."""
    from pytest_syncer.harness.clusters.registry import make_provider

    return make_provider


@pytest.fixture(scope="session")
def syncer_environments(
    syncer_config: HarnessConfig,
    syncer_pool_size: int,
    syncer_cluster_provider: Callable[[HarnessConfig], ClusterProvider],
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
) -> Iterator[EnvironmentCache]:
    """Every environment of the session, by size; all stopped when the session ends, unless
    `--syncer-keep` keeps them (then they live under the well-known runs root, out of reach
    of pytest's basetemp rotation)."""
    from pytest_syncer.harness.leftovers import runs_root
    from pytest_syncer.harness.sharing import SharedRun

    shared_input = getattr(pytestconfig, "workerinput", {}).get(SHARED_INPUT)
    if syncer_config.keep == "never":
        workdir = tmp_path_factory.mktemp("syncer")
    else:
        root = runs_root()
        root.mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix=f"kept-{os.getpid()}-", dir=root))
    cache = EnvironmentCache(
        syncer_config,
        workdir,
        syncer_pool_size,
        syncer_cluster_provider,
        session_report(pytestconfig),
        syncer_config.artifacts or tmp_path_factory.getbasetemp() / "syncer-artifacts",
        SharedRun.from_input(shared_input) if shared_input is not None else None,
    )
    try:
        yield cache
    finally:
        cache.close()


@pytest.fixture
def syncer_env(
    request: pytest.FixtureRequest, syncer_environments: EnvironmentCache
) -> SyncerEnvironment:
    """The running `SyncerEnvironment` for this test's size (marker `syncer_targets(n)`, else
    `--syncer-targets`). It lives for the session and is shared by every test of that size."""
    marker = request.node.get_closest_marker("syncer_targets")
    size = syncer_environments.config.targets
    if marker is not None:
        if len(marker.args) != 1 or not isinstance(marker.args[0], int) or marker.args[0] < 1:
            raise pytest.UsageError("syncer_targets takes one positive integer: syncer_targets(n)")
        size = marker.args[0]
    from pytest_syncer.harness.artifacts import LogWindow

    env = syncer_environments.get(size)
    request.node.stash[CONTEXT_KEY] = FailureContext(
        env, LogWindow.open(env), syncer_environments.artifacts_root
    )
    return env


@pytest.fixture
def upstream(syncer_env: SyncerEnvironment) -> ApiClient:
    """An official `kubernetes.client.ApiClient` for the upstream workspace."""
    return syncer_env.upstream.api


@pytest.fixture
def sync_targets(syncer_env: SyncerEnvironment) -> list[TargetHandle]:
    """The targets: name, key, placement `label`, `api` (official client for its cluster)
    and `namespace(upstream_ns)`."""
    return syncer_env.target_list()


@pytest.fixture
def workload(
    request: pytest.FixtureRequest,
    syncer_env: SyncerEnvironment,
    syncer_manifest_dirs: list[Path],
) -> Iterator[WorkloadFactory]:
    """A factory: `workload(manifest_or_file, targets=names_or_count)`. Each test gets its
    own upstream namespace; what it created is deleted, and released by every syncer, after."""
    from pytest_syncer.harness.workloads import (
        WorkloadFactory,
        delete_namespace,
        namespace_for_test,
    )

    worker = os.environ.get("PYTEST_XDIST_WORKER", "") if syncer_env.shared else ""
    namespace = namespace_for_test(request.node.name, next(_namespaces), worker)
    seed = syncer_env.config.seed * 1_000_003 + sum(map(ord, request.node.nodeid))
    factory = WorkloadFactory(syncer_env, namespace, syncer_manifest_dirs, seed)
    context = request.node.stash.get(CONTEXT_KEY, None)
    if context is not None:
        context.factory = factory
    yield factory
    factory.cleanup()
    delete_namespace(syncer_env, namespace)


@pytest.fixture
def conflicts(syncer_env: SyncerEnvironment) -> Conflicts:
    """Inject conflicts below: drift, downstream delete, foreign objects, concurrent writers,
    a replicas fight (`harness.conflicts.run_scenario` plays a scenario file)."""
    from pytest_syncer.harness.conflicts import Conflicts

    return Conflicts(syncer_env)


@pytest.fixture
def faults(syncer_env: SyncerEnvironment) -> Iterator[Faults]:
    """Inject faults: drop the tunnels, freeze a target, SIGKILL and restart a target's
    syncer, restart the API server, and with `--syncer-network-faults on` slow, cut or reset
    one link of a syncer. Whatever is still broken after the test is healed."""
    from pytest_syncer.harness.faults import Faults

    if syncer_env.shared:
        pytest.skip(SHARED_SKIP.format(what="faults stop processes"))
    injected = Faults(syncer_env)
    try:
        yield injected
    finally:
        injected.heal()


@pytest.fixture
def status_profiles(syncer_env: SyncerEnvironment) -> Iterator[StatusProfiles]:
    """The simulator's profile per target (`healthy`, `slow`, `partially-ready`, ...); reset
    to all healthy after the test. Skips on providers with real controllers."""
    from pytest_syncer.harness.profiles import StatusProfiles

    if syncer_env.shared:
        pytest.skip(SHARED_SKIP.format(what="status profiles change targets"))
    if not syncer_env.clusters.simulated:
        pytest.skip(f"provider {syncer_env.provider.name} runs real controllers, no simulator")
    profiles = StatusProfiles(syncer_env)
    try:
        yield profiles
    finally:
        profiles.reset()


@pytest.fixture
def tunnel_client(syncer_env: SyncerEnvironment) -> Iterator[TunnelClient]:
    """Reach a target's API through the hub's proxy and its tunnel: `tunnel_client.api(name)`
    is an official `ApiClient` whose requests go through the tunnel."""
    from pytest_syncer.harness.tunnel_client import TunnelClient

    client = TunnelClient(syncer_env)
    try:
        yield client
    finally:
        client.close()
