"""A kubeconfig rewritten to the fault proxy still reaches the real API server over TLS, with
the syncer's own client checking the real server's certificate through the proxy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.harness.netfaults.proxy import FaultProxy
from pytest_syncer.harness.netfaults.wiring import proxy_kubeconfig, proxy_url
from pytest_syncer.kubeclient.client import NAMESPACES, KubeClient


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundAPIServer]:
    directory = tmp_path_factory.mktemp("apiserver")
    with BackgroundAPIServer(["upstream"], directory / "kubeconfigs") as server:
        yield server


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    proxy = FaultProxy(seed=12)
    try:
        yield proxy
    finally:
        proxy.close()


def server_of(kubeconfig: Path) -> dict[str, str]:
    document = yaml.safe_load(kubeconfig.read_text())
    [cluster] = document["clusters"]
    return dict(cluster["cluster"])


async def namespaces(kubeconfig: Path) -> list[str]:
    async with await KubeClient.from_kubeconfig(kubeconfig) as client:
        listed = await client.list(NAMESPACES)
    return sorted(item["metadata"]["name"] for item in listed["items"])


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_the_syncers_client_reaches_the_server_through_the_link(
    apiserver: BackgroundAPIServer, proxy: FaultProxy, tmp_path: Path, host: str
) -> None:
    original = apiserver.kubeconfigs["upstream"]
    named = tmp_path / "named.kubeconfig"
    named.write_text(original.read_text().replace("127.0.0.1", host))
    rewritten = proxy_kubeconfig(proxy, "target-000/upstream", named, tmp_path / "proxied")
    link = proxy.links["target-000/upstream"]
    cluster = server_of(rewritten)
    assert cluster["server"].startswith(f"https://127.0.0.1:{link.address[1]}/")
    assert cluster.get("tls-server-name") == (None if host == "127.0.0.1" else host)
    assert link.peer == (host, int(apiserver.url.rsplit(":", 1)[1]))
    assert "default" in await namespaces(rewritten)
    assert link.accepted >= 1
    assert rewritten.stat().st_mode & 0o777 == 0o600


def test_a_url_keeps_its_path_and_scheme(proxy: FaultProxy) -> None:
    url = proxy_url(proxy, "target-000/tunnel", "https://127.0.0.1:9443/tunnel")
    link = proxy.links["target-000/tunnel"]
    assert url == f"https://127.0.0.1:{link.address[1]}/tunnel"
    assert link.peer == ("127.0.0.1", 9443)
