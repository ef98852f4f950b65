"""Reading a cluster endpoint from a kubeconfig, and the headers that may cross a hop."""

from __future__ import annotations

import ssl
from pathlib import Path

from pytest_syncer.apiserver.certs import CertificateAuthority
from pytest_syncer.apiserver.kubeconfig import write_kubeconfig
from pytest_syncer.tunnel.client import forwardable_headers, response_headers
from pytest_syncer.tunnel.endpoint import ClusterEndpoint


def test_an_https_kubeconfig_gives_a_verifying_context_and_the_token(tmp_path: Path) -> None:
    authority = CertificateAuthority.generate("test-ca")
    path = write_kubeconfig(
        tmp_path / "k.kubeconfig",
        server="https://127.0.0.1:6443/clusters/root:org:ws/",
        token="t0ken",
        ca_pem=authority.cert_pem,
        name="ws",
    )
    endpoint = ClusterEndpoint.from_kubeconfig(path)
    assert endpoint.base_url == "https://127.0.0.1:6443/clusters/root:org:ws"
    assert endpoint.server_root == "https://127.0.0.1:6443"
    assert endpoint.authorization == "Bearer t0ken"
    assert isinstance(endpoint.ssl_context, ssl.SSLContext)
    assert endpoint.ssl_context.verify_mode is ssl.CERT_REQUIRED


def test_a_plain_server_keeps_its_path(tmp_path: Path) -> None:
    path = write_kubeconfig(
        tmp_path / "k.kubeconfig",
        server="http://10.0.0.1:8080/prefix",
        token="",
        ca_pem=None,
        name="plain",
    )
    endpoint = ClusterEndpoint.from_kubeconfig(path)
    assert (endpoint.base_url, endpoint.server_root, endpoint.ssl_context) == (
        "http://10.0.0.1:8080/prefix",
        "http://10.0.0.1:8080/prefix",
        False,
    )
    assert endpoint.authorization is None


def test_hop_by_hop_and_credentials_stay_behind() -> None:
    request = [
        ("Authorization", "Bearer caller"),
        ("Host", "hub"),
        ("Connection", "keep-alive"),
        ("Content-Length", "10"),
        ("Transfer-Encoding", "chunked"),
        ("Accept", "application/json"),
        ("Content-Type", "application/json"),
    ]
    assert forwardable_headers(request) == (
        ("Accept", "application/json"),
        ("Content-Type", "application/json"),
    )
    response = [("Content-Length", "10"), ("Transfer-Encoding", "chunked"), ("Audit-Id", "a")]
    assert response_headers(response) == (("Content-Length", "10"), ("Audit-Id", "a"))
