"""pytest-syncer: a pytest plugin and harness for testing multi-cluster workload syncers.

This module is the public face: everything a test suite that uses the fixtures may import, and
type-hint with, is re-exported here (and `pytest_syncer.strategies` holds the hypothesis
strategies). Every other module is internal and may move. The names load on first use, so the
plugin's `import pytest_syncer` at pytest start-up stays cheap.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_syncer.contract.naming import (
        CLUSTER_LABEL,
        LOCATOR_ANNOTATION,
        PLACEMENT_LABEL_PREFIX,
        SYNC_TARGET_KEY_LABEL,
        WORKLOAD_UID_LABEL,
    )
    from pytest_syncer.contract.objects import SyncPhase
    from pytest_syncer.harness.clusters.base import (
        ClusterProvider,
        FaultNotSupported,
        ProvidedClusters,
        ProviderUnavailable,
    )
    from pytest_syncer.harness.clusters.embedded import EmbeddedProvider
    from pytest_syncer.harness.clusters.kind import KindProvider
    from pytest_syncer.harness.clusters.kubeconfig import KubeconfigProvider
    from pytest_syncer.harness.clusters.registry import make_provider
    from pytest_syncer.harness.config import HarnessConfig, HarnessConfigError
    from pytest_syncer.harness.conflicts import Conflicts, ConflictScenario, run_scenario
    from pytest_syncer.harness.environment import SyncerEnvironment, TargetHandle
    from pytest_syncer.harness.faults import Faults
    from pytest_syncer.harness.fixtures import EnvironmentCache
    from pytest_syncer.harness.kube import NAMESPACES, SYNC_STATUSES, SYNC_TARGETS, Cluster, Kind
    from pytest_syncer.harness.profiles import StatusProfiles
    from pytest_syncer.harness.run_stats import RunStats
    from pytest_syncer.harness.tunnel_client import TunnelClient
    from pytest_syncer.harness.waiting import WaitTimeout, wait_until
    from pytest_syncer.harness.workloads import (
        CONFLICT_STRATEGY_ANNOTATION,
        RETAIN_FIELDS_ANNOTATION,
        Workload,
        WorkloadFactory,
    )

_EXPORTS: dict[str, str] = {
    # the environment and what the fixtures hand a test
    "SyncerEnvironment": "pytest_syncer.harness.environment",
    "TargetHandle": "pytest_syncer.harness.environment",
    "Workload": "pytest_syncer.harness.workloads",
    "WorkloadFactory": "pytest_syncer.harness.workloads",
    "Conflicts": "pytest_syncer.harness.conflicts",
    "ConflictScenario": "pytest_syncer.harness.conflicts",
    "run_scenario": "pytest_syncer.harness.conflicts",
    "Faults": "pytest_syncer.harness.faults",
    "StatusProfiles": "pytest_syncer.harness.profiles",
    "TunnelClient": "pytest_syncer.harness.tunnel_client",
    "Cluster": "pytest_syncer.harness.kube",
    "EnvironmentCache": "pytest_syncer.harness.fixtures",
    # configuration, providers and the run's figures
    "HarnessConfig": "pytest_syncer.harness.config",
    "HarnessConfigError": "pytest_syncer.harness.config",
    "ClusterProvider": "pytest_syncer.harness.clusters.base",
    "ProvidedClusters": "pytest_syncer.harness.clusters.base",
    "ProviderUnavailable": "pytest_syncer.harness.clusters.base",
    "FaultNotSupported": "pytest_syncer.harness.clusters.base",
    "EmbeddedProvider": "pytest_syncer.harness.clusters.embedded",
    "KubeconfigProvider": "pytest_syncer.harness.clusters.kubeconfig",
    "KindProvider": "pytest_syncer.harness.clusters.kind",
    "make_provider": "pytest_syncer.harness.clusters.registry",
    "RunStats": "pytest_syncer.harness.run_stats",
    # waiting
    "wait_until": "pytest_syncer.harness.waiting",
    "WaitTimeout": "pytest_syncer.harness.waiting",
    # kinds, labels and annotations
    "Kind": "pytest_syncer.harness.kube",
    "NAMESPACES": "pytest_syncer.harness.kube",
    "SYNC_TARGETS": "pytest_syncer.harness.kube",
    "SYNC_STATUSES": "pytest_syncer.harness.kube",
    "SyncPhase": "pytest_syncer.contract.objects",
    "PLACEMENT_LABEL_PREFIX": "pytest_syncer.contract.naming",
    "CLUSTER_LABEL": "pytest_syncer.contract.naming",
    "LOCATOR_ANNOTATION": "pytest_syncer.contract.naming",
    "SYNC_TARGET_KEY_LABEL": "pytest_syncer.contract.naming",
    "WORKLOAD_UID_LABEL": "pytest_syncer.contract.naming",
    "CONFLICT_STRATEGY_ANNOTATION": "pytest_syncer.harness.workloads",
    "RETAIN_FIELDS_ANNOTATION": "pytest_syncer.harness.workloads",
}

__all__ = [
    "CLUSTER_LABEL",
    "CONFLICT_STRATEGY_ANNOTATION",
    "LOCATOR_ANNOTATION",
    "NAMESPACES",
    "PLACEMENT_LABEL_PREFIX",
    "RETAIN_FIELDS_ANNOTATION",
    "SYNC_STATUSES",
    "SYNC_TARGETS",
    "SYNC_TARGET_KEY_LABEL",
    "WORKLOAD_UID_LABEL",
    "Cluster",
    "ClusterProvider",
    "ConflictScenario",
    "Conflicts",
    "EmbeddedProvider",
    "EnvironmentCache",
    "FaultNotSupported",
    "Faults",
    "HarnessConfig",
    "HarnessConfigError",
    "Kind",
    "KindProvider",
    "KubeconfigProvider",
    "ProvidedClusters",
    "ProviderUnavailable",
    "RunStats",
    "StatusProfiles",
    "SyncPhase",
    "SyncerEnvironment",
    "TargetHandle",
    "TunnelClient",
    "WaitTimeout",
    "Workload",
    "WorkloadFactory",
    "__version__",
    "make_provider",
    "run_scenario",
    "wait_until",
]

try:
    __version__ = version("pytest-syncer")
except PackageNotFoundError:  # a checkout on sys.path, not installed
    __version__ = "0+unknown"


def __getattr__(name: str) -> Any:
    """Import a public name's module the first time the name is asked for."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
