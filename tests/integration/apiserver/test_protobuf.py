"""Protobuf over real HTTP: kubectl's generators, raw clients asking protobuf, and CRDs refusing it.

kubectl 1.32 and newer send every ``kubectl create <generator>`` body as protobuf and ask for
protobuf back; the bodies are captured at the server and decoded, and must read as what the same
kubectl prints for ``--dry-run=client -o json``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from kubernetes import client, config

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.apiserver.http.protobuf import serving, wire
from pytest_syncer.apiserver.http.protobuf.envelope import (
    MAGIC,
    MEDIA_TYPE,
    WATCH_MEDIA_TYPE,
    decode_object,
    encode_object,
    read_watch_frames,
)
from pytest_syncer.harness.waiting import wait_until
from tests.integration.apiserver.clients import ClusterClient
from tests.integration.apiserver.kubectl_runner import Kubectl, kubectl_or_skip
from tests.integration.apiserver.test_crd import widget_crd
from tests.support.tokens import token_of

#: Before 1.32 (1.27, 1.31) the generators send JSON; 1.32 is the image's default kubectl.
VERSIONS = ("1.27", "1.31", "1.32", "1.33")
NAMESPACE = "shop"
CONFIGMAPS = f"/api/v1/namespaces/{NAMESPACE}/configmaps"
WIDGETS = f"/apis/example.com/v1/namespaces/{NAMESPACE}/widgets"
#: (generator arguments, the object's path under the cluster)
GENERATORS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("configmap", "cm", "--from-literal=a=b"), "/api/v1/namespaces/shop/configmaps/cm"),
    (("secret", "generic", "s", "--from-literal=k=v"), "/api/v1/namespaces/shop/secrets/s"),
    (
        ("deployment", "web", "--image=nginx", "--replicas=2", "--port=80"),
        "/apis/apps/v1/namespaces/shop/deployments/web",
    ),
    (("service", "clusterip", "svc", "--tcp=80:8080"), "/api/v1/namespaces/shop/services/svc"),
    (
        ("job", "once", "--image=busybox", "--", "echo", "hi"),
        "/apis/batch/v1/namespaces/shop/jobs/once",
    ),
    (
        ("cronjob", "nightly", "--image=busybox", "--schedule=*/5 * * * *"),
        "/apis/batch/v1/namespaces/shop/cronjobs/nightly",
    ),
    (
        ("role", "reader", "--verb=get,list", "--resource=pods"),
        "/apis/rbac.authorization.k8s.io/v1/namespaces/shop/roles/reader",
    ),
    (
        ("rolebinding", "rb", "--role=reader", "--user=alice"),
        "/apis/rbac.authorization.k8s.io/v1/namespaces/shop/rolebindings/rb",
    ),
    (("serviceaccount", "robot"), "/api/v1/namespaces/shop/serviceaccounts/robot"),
    (
        ("ingress", "web", "--rule=example.com/=svc:80"),
        "/apis/networking.k8s.io/v1/namespaces/shop/ingresses/web",
    ),
)


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundAPIServer]:
    directory = tmp_path_factory.mktemp("protobuf-apiserver")
    with BackgroundAPIServer(["upstream"], directory / "kubeconfigs") as server:
        yield server


@pytest.fixture(scope="module")
def upstream(apiserver: BackgroundAPIServer) -> ClusterClient:
    http = ClusterClient(
        f"{apiserver.url}/clusters/upstream",
        token_of(apiserver.kubeconfigs["upstream"]),
        str(apiserver.ca_file),
    )
    assert http.post("/api/v1/namespaces", {"metadata": {"name": NAMESPACE}}).status_code == 201
    return http


@pytest.fixture(scope="module", params=VERSIONS, ids=lambda v: f"kubectl-{v}")
def kubectl(
    request: pytest.FixtureRequest,
    apiserver: BackgroundAPIServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Kubectl:
    version: str = request.param
    kubeconfig = apiserver.add_cluster("pb-" + version.replace(".", "-"))
    cache = tmp_path_factory.mktemp(f"kubectl-cache-{version}")
    return kubectl_or_skip(version, kubeconfig, cache, NAMESPACE)


@pytest.fixture
def bodies(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every protobuf request body the server decodes while the test runs, as received."""
    received: list[bytes] = []
    read_body: Callable[[bytes], dict[str, Any]] = serving.read_body

    def recording(raw: bytes) -> dict[str, Any]:
        received.append(raw)
        return read_body(raw)

    monkeypatch.setattr(serving, "read_body", recording)
    return received


def _json(kubectl: Kubectl, *args: str) -> Any:
    return orjson.loads(kubectl.run(*args).stdout)


def _contains(live: Any, expected: Any) -> bool:
    """Whether ``live`` holds everything ``expected`` does (the server adds fields)."""
    if isinstance(expected, dict):
        return isinstance(live, dict) and all(
            key in live and _contains(live[key], value)
            for key, value in expected.items()
            if value is not None
        )
    if isinstance(expected, list):
        return (
            isinstance(live, list)
            and len(live) == len(expected)
            and all(_contains(a, b) for a, b in zip(live, expected, strict=True))
        )
    return bool(live == expected)


def test_every_generator_creates_its_object(
    kubectl: Kubectl, apiserver: BackgroundAPIServer, bodies: list[bytes]
) -> None:
    http = ClusterClient(
        f"{apiserver.url}/clusters/{kubectl.kubeconfig.stem}",
        token_of(kubectl.kubeconfig),
        str(apiserver.ca_file),
    )
    assert kubectl.run("create", "namespace", NAMESPACE).stdout.strip() == "namespace/shop created"
    for arguments, path in GENERATORS:
        flags = ("--dry-run=client", "-o", "json")
        split = arguments.index("--") if "--" in arguments else len(arguments)
        dry_run = _json(kubectl, "create", *arguments[:split], *flags, *arguments[split:])
        del bodies[:]
        created = kubectl.run("create", *arguments).stdout.strip()
        assert created.endswith(" created"), created
        if kubectl.version >= (1, 32):
            (body,) = bodies
            assert decode_object(body) == dry_run, arguments
        else:
            assert bodies == [], "kubectl before 1.32 sends JSON"
        live = http.get(path).json()
        sent = {k: v for k, v in dry_run.items() if k not in ("metadata", "status")}
        assert _contains(live, sent), (live, sent)
        assert live["metadata"]["name"] == dry_run["metadata"]["name"]


def test_verbose_kubectl_shows_protobuf_both_ways(kubectl: Kubectl) -> None:
    if kubectl.version < (1, 32):
        pytest.skip("kubectl before 1.32 sends JSON")
    if (
        "namespace/shop"
        not in kubectl.run("get", "namespace", NAMESPACE, "-o", "name", check=False).stdout
    ):
        kubectl.run("create", "namespace", NAMESPACE)
    logged = kubectl.run("create", "configmap", "verbose", "--from-literal=a=b", "-v=8").stderr
    assert f"Content-Type: {MEDIA_TYPE}" in logged  # the request's, and the response's
    assert logged.count(f"Content-Type: {MEDIA_TYPE}") == 2
    assert f"Accept: {MEDIA_TYPE},application/json" in logged


def test_kubectl_get_raw_cannot_ask_for_protobuf(kubectl: Kubectl) -> None:
    """``kubectl get --raw`` has no way to set Accept: it sends ``application/json, */*``
    (``application/cbor, */*`` with client-go's ``KUBE_FEATURE_ClientsAllowCBOR`` and
    ``ClientsPreferCBOR`` gates, 1.32+), and both negotiate JSON here, as on a real server
    without CBOR. ``--raw`` takes the path as given, so it names the cluster. So a protobuf GET
    is tested with raw HTTP (below), not with kubectl."""
    path = f"/clusters/{kubectl.kubeconfig.stem}/api/v1/namespaces/default"
    plain = kubectl.run("get", "--raw", path, "-v=8")
    assert "Accept: application/json, */*" in plain.stderr
    assert orjson.loads(plain.stdout)["kind"] == "Namespace"
    if kubectl.version < (1, 32):
        return
    gates = {"KUBE_FEATURE_ClientsAllowCBOR": "true", "KUBE_FEATURE_ClientsPreferCBOR": "true"}
    cbor = kubectl.run("get", "--raw", path, "-v=8", env=gates)
    assert "Accept: application/cbor, */*" in cbor.stderr
    assert orjson.loads(cbor.stdout)["kind"] == "Namespace"
    assert MEDIA_TYPE not in plain.stderr + cbor.stderr


def test_get_list_and_errors_in_protobuf(upstream: ClusterClient) -> None:
    upstream.post(CONFIGMAPS, {"metadata": {"name": "plain"}, "data": {"k": "v"}})
    as_json = upstream.get(f"{CONFIGMAPS}/plain").json()
    got = upstream.get(f"{CONFIGMAPS}/plain", headers={"Accept": MEDIA_TYPE})
    assert got.headers["Content-Type"] == MEDIA_TYPE
    assert got.content.startswith(MAGIC)
    assert decode_object(got.content) == as_json
    listed = decode_object(upstream.get(CONFIGMAPS, headers={"Accept": MEDIA_TYPE}).content)
    assert listed["kind"] == "ConfigMapList"
    assert "plain" in {item["metadata"]["name"] for item in listed["items"]}
    missing = upstream.get(
        f"{CONFIGMAPS}/absent", headers={"Accept": f"{MEDIA_TYPE}, application/json"}
    )
    assert (missing.status_code, missing.headers["Content-Type"]) == (404, MEDIA_TYPE)
    status = decode_object(missing.content)
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 404, "NotFound")


def test_protobuf_create_and_update_bodies(upstream: ClusterClient) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "sent"},
        "data": {"a": "1"},
    }
    headers = {"Content-Type": MEDIA_TYPE, "Accept": MEDIA_TYPE}
    created = upstream.request("POST", CONFIGMAPS, data=encode_object(body), headers=headers)
    assert created.status_code == 201, created.content
    stored = decode_object(created.content)
    assert stored["data"] == {"a": "1"}
    stored["data"] = {"a": "2"}
    updated = upstream.request(
        "PUT", f"{CONFIGMAPS}/sent", data=encode_object(stored), headers=headers
    )
    assert updated.status_code == 200, updated.content
    assert upstream.get(f"{CONFIGMAPS}/sent").json()["data"] == {"a": "2"}
    patch = upstream.request(
        "PATCH", f"{CONFIGMAPS}/sent", data=encode_object(stored), headers=headers
    )
    assert patch.status_code == 415  # patches stay JSON-family, as in Kubernetes
    options = {"apiVersion": "v1", "kind": "DeleteOptions", "dryRun": ["All"]}
    kept = upstream.request(
        "DELETE", f"{CONFIGMAPS}/sent", data=encode_object(options), headers=headers
    )
    assert kept.status_code == 200, kept.content
    # A ConfigMap's DELETE answers a Success Status naming it, in protobuf as in JSON.
    answer = decode_object(kept.content)
    assert (answer["kind"], answer["status"]) == ("Status", "Success")
    assert answer["details"]["name"] == "sent"
    assert answer["details"]["kind"] == "configmaps"
    assert answer["details"]["uid"] == stored["metadata"]["uid"]
    assert upstream.get(f"{CONFIGMAPS}/sent").status_code == 200


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (f"{MEDIA_TYPE};q=0.5, application/json", "application/json"),
        (f"application/json;q=0.5, {MEDIA_TYPE}", MEDIA_TYPE),
        (f"{MEDIA_TYPE};q=0, application/json", "application/json"),
        (f"*/*, {MEDIA_TYPE}", MEDIA_TYPE),
        (f"{MEDIA_TYPE};as=Table;v=v1;g=meta.k8s.io, application/json", "application/json"),
        ("application/json;as=Table;v=v1;g=meta.k8s.io, " + MEDIA_TYPE, "application/json"),
    ],
)
def test_accept_is_negotiated_as_kubernetes_does(
    upstream: ClusterClient, accept: str, expected: str
) -> None:
    answer = upstream.get(CONFIGMAPS, headers={"Accept": accept})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == expected


def test_watch_frames_are_length_prefixed_events(upstream: ClusterClient) -> None:
    upstream.post(CONFIGMAPS, {"metadata": {"name": "watched"}, "data": {}})
    params = {
        "watch": "1",
        "timeoutSeconds": "1",
        "sendInitialEvents": "true",
        "resourceVersionMatch": "NotOlderThan",
        "allowWatchBookmarks": "true",
        "fieldSelector": "metadata.name=watched",
    }
    answer = upstream.get(CONFIGMAPS, params=params, headers={"Accept": WATCH_MEDIA_TYPE})
    assert answer.headers["Content-Type"] == WATCH_MEDIA_TYPE
    events = list(read_watch_frames(answer.content))
    assert [event_type for event_type, _ in events] == ["ADDED", "BOOKMARK"]
    assert events[0][1]["metadata"]["name"] == "watched"
    bookmark = events[1][1]["metadata"]
    assert bookmark["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_custom_resources_stay_json_only(upstream: ClusterClient, admin_crd: None) -> None:
    del admin_crd
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    created = upstream.post(WIDGETS, {**widget, "spec": {"size": 1}})
    assert created.status_code == 201, created.text
    both = upstream.get(f"{WIDGETS}/w", headers={"Accept": f"{MEDIA_TYPE}, application/json"})
    assert both.headers["Content-Type"] == "application/json"
    only = upstream.get(f"{WIDGETS}/w", headers={"Accept": MEDIA_TYPE})
    assert (only.status_code, only.json()["reason"]) == (406, "NotAcceptable")
    # A custom resource has no protobuf form: 415, as for any body in an unknown format.
    unknown = wire.field_bytes(
        1, wire.field_bytes(1, b"example.com/v1") + wire.field_bytes(2, b"Widget")
    )
    for body in (
        MAGIC + unknown,
        encode_object({**widget, "apiVersion": "v1", "kind": "ConfigMap"}),
    ):
        refused = upstream.request("POST", WIDGETS, data=body, headers={"Content-Type": MEDIA_TYPE})
        assert (refused.status_code, refused.json()["reason"]) == (415, "UnsupportedMediaType")


@pytest.fixture(scope="module")
def admin_crd(upstream: ClusterClient) -> None:
    crd = upstream.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", widget_crd())
    assert crd.status_code == 201, crd.text
    wait_until(
        lambda: upstream.get(WIDGETS).status_code,
        lambda code: code == 200,
        what="widgets served",
        timeout=10,
    )


def test_the_official_python_client_still_speaks_json(apiserver: BackgroundAPIServer) -> None:
    api_client = config.new_client_from_config(config_file=str(apiserver.kubeconfigs["upstream"]))
    with api_client:
        core = client.CoreV1Api(api_client)
        body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="from-python"), data={"x": "y"})
        created = core.create_namespaced_config_map(NAMESPACE, body)
        assert created.data == {"x": "y"}
        _, status, headers = core.read_namespaced_config_map_with_http_info(
            "from-python", NAMESPACE
        )
        assert status == 200
        assert headers["Content-Type"] == "application/json"
