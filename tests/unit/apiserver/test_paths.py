"""Request path parsing: what each path addresses, and that nothing odd gets through."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.resources import ResourceRegistry
from pytest_syncer.apiserver.http.paths import (
    DiscoveryPath,
    ResourcePath,
    is_valid_cluster_name,
    parse_path,
)

REGISTRY = ResourceRegistry.builtin()


def test_namespaced_object_paths() -> None:
    path = parse_path(
        "/clusters/root:org:ws/apis/apps/v1/namespaces/ns/deployments/web/status", REGISTRY
    )
    assert isinstance(path, ResourcePath)
    assert (path.cluster, path.namespace, path.name, path.subresource) == (
        "root:org:ws",
        "ns",
        "web",
        "status",
    )
    assert path.resource_type.kind == "Deployment"


def test_namespace_status_is_not_a_namespaced_collection() -> None:
    path = parse_path("/clusters/a/api/v1/namespaces/ns/status", REGISTRY)
    assert isinstance(path, ResourcePath)
    assert (path.resource_type.resource, path.name, path.subresource) == (
        "namespaces",
        "ns",
        "status",
    )


def test_collections_across_namespaces_and_the_wildcard() -> None:
    path = parse_path("/clusters/*/api/v1/pods", REGISTRY)
    assert isinstance(path, ResourcePath)
    assert (path.cluster, path.namespace, path.name) == ("*", None, None)


@pytest.mark.parametrize(
    ("raw", "document"),
    [
        ("/version", "version"),
        ("/api", "api"),
        ("/apis/", "apis"),
        ("/clusters/a/apis/apps", "group"),
        ("/clusters/a/apis/apps/v1", "resources"),
        ("/clusters/a/api/v1", "resources"),
    ],
)
def test_discovery_paths(raw: str, document: str) -> None:
    path = parse_path(raw, REGISTRY)
    assert isinstance(path, DiscoveryPath)
    assert path.document == document


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("/clusters/../api", 400),
        ("/clusters/%2F/api", 400),
        ("/clusters//api", 400),
        ("/clusters/A/api", 400),
        ("/clusters/a/api/v1/namespaces/x/configmaps/a%2Fb", 400),
        ("/clusters/a/api/v1/namespaces/x/configmaps/a%00b", 400),
        ("/clusters/a/api/v1/namespaces/x/configmaps/%2E%2E", 400),
        ("/clusters/a/api/v1/namespaces/x/configmaps/" + "n" * 254, 400),
        ("/clusters/" + "a" * 254 + "/api", 400),
        ("/clusters/a/api/v2", 404),
        ("/clusters/a/api/v1/pods/name", 404),
        ("/clusters/a/api/v1/namespaces/x/pods/p/scale", 404),
        ("/clusters/a/api/v1/namespaces/x/pods/p/status/more", 404),
        ("/clusters/a/apis/unknown", 404),
        ("/clusters", 404),
        ("/", 404),
    ],
)
def test_bad_paths(raw: str, code: int) -> None:
    """A segment is 1 to 253 characters once decoded, with no slash, NUL, ``.`` or ``..``."""
    with pytest.raises(APIError) as caught:
        parse_path(raw, REGISTRY)
    assert caught.value.code == code


@given(st.text(max_size=80))
def test_any_path_parses_or_is_a_client_error(tail: str) -> None:
    try:
        path = parse_path("/clusters/" + tail, REGISTRY)
    except APIError as error:
        code = error.code
    else:
        code = 200
        assert path.cluster is not None
        assert path.cluster == "*" or is_valid_cluster_name(path.cluster)
        if isinstance(path, ResourcePath):
            for part in (path.namespace, path.name):
                assert part is None or ("/" not in part and part not in (".", ".."))
    assert code in (200, 400, 404)


@given(st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?(:[a-z0-9]{1,5}){0,3}", fullmatch=True))
def test_kcp_style_cluster_names_are_valid(name: str) -> None:
    assert is_valid_cluster_name(name)
    path = parse_path(f"/clusters/{name}/api/v1/namespaces", REGISTRY)
    assert path.cluster == name
