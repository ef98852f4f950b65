"""Pick the provider the options name; each provider module is imported only when chosen."""

from __future__ import annotations

from pytest_syncer.harness.clusters.base import ClusterProvider
from pytest_syncer.harness.config import HarnessConfig


def make_provider(config: HarnessConfig) -> ClusterProvider:
    if config.provider == "kubeconfig":
        from pytest_syncer.harness.clusters.kubeconfig import KubeconfigProvider

        assert config.kubeconfig is not None
        return KubeconfigProvider(config.kubeconfig)
    if config.provider == "kind":
        from pytest_syncer.harness.clusters.kind import KindProvider

        return KindProvider(config.kind_clusters)
    from pytest_syncer.harness.clusters.embedded import EmbeddedProvider

    return EmbeddedProvider(apiservers=config.apiservers)
