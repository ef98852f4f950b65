"""Reach a target's cluster the way the upstream does: through the hub's proxy and the
target's reverse tunnel, with the upstream's own credentials."""

from __future__ import annotations

from kubernetes import client as k8s_client

from pytest_syncer.harness.environment import SyncerEnvironment


class TunnelClient:
    """Official `ApiClient`s whose host is the hub's proxy path of one target."""

    def __init__(self, env: SyncerEnvironment) -> None:
        self.env = env
        self._clients: list[k8s_client.ApiClient] = []

    def url(self, target: str) -> str:
        """The proxy base URL of `target`: `<hub>/clusters/<ws>/targets/<name>/proxy`."""
        workspace = self.env.clusters.upstream_cluster
        return f"{self.env.hub_url}/clusters/{workspace}/targets/{target}/proxy"

    def api(self, target: str) -> k8s_client.ApiClient:
        """An `ApiClient` for `target`'s cluster, through the tunnel."""
        upstream = self.env.upstream.api.configuration
        configuration = k8s_client.Configuration()
        configuration.host = self.url(target)
        configuration.ssl_ca_cert = str(self.env.hub_ca)
        configuration.api_key = dict(upstream.api_key)
        configuration.api_key_prefix = dict(upstream.api_key_prefix)
        client = k8s_client.ApiClient(configuration)
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()
