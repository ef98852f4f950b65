"""Kubeconfigs we write must be what the official kubernetes client loads."""

from __future__ import annotations

import base64
import stat

import pytest
import yaml
from kubernetes import client, config

from pytest_syncer.apiserver.certs import CertificateAuthority
from pytest_syncer.apiserver.kubeconfig import (
    KubeconfigContext,
    context_from_kubeconfig,
    load_kubeconfig,
    write_kubeconfig,
    write_multi_context_kubeconfig,
)


@pytest.fixture(scope="module")
def ca_pem() -> bytes:
    return CertificateAuthority.generate("kubeconfig-test").cert_pem


def _loaded(path, context=None) -> client.Configuration:
    configuration = client.Configuration()
    config.load_kube_config(
        config_file=str(path), context=context, client_configuration=configuration
    )
    return configuration


def _authorization(configuration: client.Configuration) -> str:
    """The Authorization header the client will send, however this client version stores it."""
    settings = configuration.auth_settings()["BearerToken"]
    assert settings["key"] == "authorization"
    return str(settings["value"])


def test_single_context_is_what_the_official_client_loads(tmp_path, ca_pem):
    path = write_kubeconfig(
        tmp_path / "upstream.kubeconfig",
        server="https://127.0.0.1:6443/clusters/upstream",
        token="secret-token",
        ca_pem=ca_pem,
        name="upstream",
        namespace="work",
    )
    configuration = _loaded(path)
    assert configuration.host == "https://127.0.0.1:6443/clusters/upstream"
    assert _authorization(configuration) == "Bearer secret-token"
    assert configuration.verify_ssl is True
    assert configuration.ssl_ca_cert is not None
    with open(configuration.ssl_ca_cert, "rb") as handle:
        assert handle.read() == ca_pem
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = path.read_text()
    assert "insecure-skip-tls-verify" not in raw
    document = load_kubeconfig(path)
    assert document["current-context"] == "upstream"
    assert document["contexts"][0]["context"]["namespace"] == "work"
    cluster = document["clusters"][0]["cluster"]
    assert base64.b64decode(cluster["certificate-authority-data"]) == ca_pem


def test_new_client_from_config_talks_to_the_written_host(tmp_path, ca_pem):
    path = write_kubeconfig(
        tmp_path / "a.kubeconfig",
        server="https://localhost:7000/clusters/a",
        token="t-a",
        ca_pem=ca_pem,
        name="a",
    )
    api_client = config.new_client_from_config(config_file=str(path))
    try:
        assert api_client.configuration.host == "https://localhost:7000/clusters/a"
        assert _authorization(api_client.configuration) == "Bearer t-a"
    finally:
        api_client.close()


def test_plain_http_has_no_ca_data_and_no_skip_verify(tmp_path):
    path = write_kubeconfig(
        tmp_path / "plain.kubeconfig",
        server="http://127.0.0.1:8080/clusters/a",
        token="t",
        ca_pem=None,
        name="a",
    )
    assert "certificate-authority" not in path.read_text()
    assert "insecure-skip-tls-verify" not in path.read_text()
    assert _loaded(path).host == "http://127.0.0.1:8080/clusters/a"


def test_multi_context_file_switches_between_clusters(tmp_path, ca_pem):
    contexts = {
        "upstream": KubeconfigContext("https://127.0.0.1:1/clusters/upstream", "tu", ca_pem),
        "target-1": KubeconfigContext("https://127.0.0.1:1/clusters/target-1", "t1", ca_pem, "ns"),
    }
    path = write_multi_context_kubeconfig(tmp_path / "all.kubeconfig", contexts, "target-1")
    current = _loaded(path)
    assert current.host == "https://127.0.0.1:1/clusters/target-1"
    assert _authorization(current) == "Bearer t1"
    other = _loaded(path, context="upstream")
    assert other.host == "https://127.0.0.1:1/clusters/upstream"
    assert _authorization(other) == "Bearer tu"
    contexts_seen, active = config.list_kube_config_contexts(config_file=str(path))
    assert [entry["name"] for entry in contexts_seen] == ["upstream", "target-1"]
    assert active["name"] == "target-1"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_multi_context_defaults_to_the_first_and_reads_back(tmp_path, ca_pem):
    contexts = {
        "b": KubeconfigContext("https://h/clusters/b", "tb", ca_pem, "x"),
        "a": KubeconfigContext("https://h/clusters/a", "ta", None),
    }
    path = write_multi_context_kubeconfig(tmp_path / "m.kubeconfig", contexts)
    document = load_kubeconfig(path)
    assert document["current-context"] == "b"
    assert context_from_kubeconfig(document) == contexts["b"]
    assert context_from_kubeconfig(document, "a") == contexts["a"]


def test_rewrite_replaces_the_file_whole(tmp_path, ca_pem):
    path = tmp_path / "k"
    write_kubeconfig(path, server="https://h/1", token="one", ca_pem=ca_pem, name="c")
    write_kubeconfig(path, server="https://h/2", token="two", ca_pem=ca_pem, name="c")
    assert context_from_kubeconfig(load_kubeconfig(path)).token == "two"
    assert [entry.name for entry in tmp_path.iterdir()] == ["k"]


def test_bad_input_is_refused_clearly(tmp_path):
    with pytest.raises(ValueError, match="at least one context"):
        write_multi_context_kubeconfig(tmp_path / "x", {})
    with pytest.raises(ValueError, match="current context 'nope'"):
        write_multi_context_kubeconfig(
            tmp_path / "x", {"a": KubeconfigContext("https://h", "t", None)}, "nope"
        )
    (tmp_path / "list.yaml").write_text(yaml.safe_dump(["not", "a", "config"]))
    with pytest.raises(ValueError, match="expected a mapping"):
        load_kubeconfig(tmp_path / "list.yaml")
    with pytest.raises(ValueError, match="no entry 'missing' in contexts"):
        context_from_kubeconfig({"contexts": []}, "missing")
