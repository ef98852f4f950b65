"""A cluster as an HTTP endpoint, read from a kubeconfig the way every Kubernetes client reads it.

The hub (TokenReview against the upstream) and the tunnel client (requests to the downstream)
reach clusters only through a kubeconfig, so they work unchanged against the embedded API
server, kind, or a real cluster. The official client's loader does the reading: inline data,
files, tokens, client certificates.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from kubernetes.client import Configuration
from kubernetes.config.kube_config import load_kube_config


@dataclass(frozen=True)
class ClusterEndpoint:
    """Where a cluster is and how to talk to it: ``base_url`` has no trailing slash (for kcp
    style servers it ends in ``/clusters/<name>``)."""

    base_url: str
    ssl_context: ssl.SSLContext | bool
    authorization: str | None

    @classmethod
    def from_kubeconfig(cls, path: Path, context: str | None = None) -> ClusterEndpoint:
        configuration = Configuration()
        load_kube_config(
            config_file=str(path),
            context=context,
            client_configuration=configuration,
            persist_config=False,
        )
        ssl_context: ssl.SSLContext | bool = False
        if urlsplit(configuration.host).scheme == "https":
            if configuration.verify_ssl:
                ssl_context = ssl.create_default_context(cafile=configuration.ssl_ca_cert)
            else:
                ssl_context = ssl.create_default_context()
                ssl_context.check_hostname = False
                ssl_context.verify_mode = ssl.CERT_NONE
            if configuration.cert_file:
                ssl_context.load_cert_chain(configuration.cert_file, configuration.key_file)
        # The official client names the key "BearerToken" (older releases: "authorization").
        authorization = configuration.api_key.get("BearerToken") or configuration.api_key.get(
            "authorization"
        )
        return cls(
            base_url=configuration.host.rstrip("/"),
            ssl_context=ssl_context,
            authorization=authorization,
        )

    @property
    def server_root(self) -> str:
        """The server URL without a ``/clusters/<name>`` suffix: where other workspaces live."""
        parts = urlsplit(self.base_url)
        path = parts.path
        marker = path.rfind("/clusters/")
        if marker >= 0:
            path = path[:marker]
        return f"{parts.scheme}://{parts.netloc}{path}"
