"""An API server and a hub of their own, as real processes with a short header timeout, for
the connection-level tests; the rest of the suite uses the session's environment."""

from __future__ import annotations

import secrets
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_syncer.process.parent import ServiceProcess
from pytest_syncer.tunnel.endpoint import ClusterEndpoint

HEADER_TIMEOUT = 2.0
"""Seconds both servers give a connection to send a whole request head."""


@dataclass
class Servers:
    apiserver: ServiceProcess
    hub: ServiceProcess
    upstream_kubeconfig: Path

    @property
    def upstream(self) -> ClusterEndpoint:
        return ClusterEndpoint.from_kubeconfig(self.upstream_kubeconfig)

    def url(self, which: str) -> str:
        process = self.apiserver if which == "apiserver" else self.hub
        url: str = process.ready["url"]
        return url

    def ssl_context(self, which: str) -> ssl.SSLContext:
        process = self.apiserver if which == "apiserver" else self.hub
        return ssl.create_default_context(cafile=process.ready["ca"])


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    work = tmp_path_factory.mktemp("reliability-servers")
    apiserver = ServiceProcess(
        "apiserver",
        [
            "--clusters=upstream,t1",
            f"--kubeconfig-dir={work / 'kubeconfigs'}",
            f"--header-timeout={HEADER_TIMEOUT:g}",
        ],
        log_path=work / "apiserver.log",
        startup_timeout=60,
    )
    secret = work / "hub-secret"
    secret.write_text(secrets.token_hex(32))
    hub = ServiceProcess(
        "hub",
        [
            f"--upstream-kubeconfig={work / 'kubeconfigs' / 'upstream.kubeconfig'}",
            f"--token-secret-file={secret}",
            f"--state-dir={work / 'hub-state'}",
            f"--header-timeout={HEADER_TIMEOUT:g}",
        ],
        log_path=work / "hub.log",
        startup_timeout=60,
    )
    try:
        apiserver.start()
        hub.start()
        yield Servers(apiserver, hub, work / "kubeconfigs" / "upstream.kubeconfig")
    finally:
        hub.stop()
        apiserver.stop()
