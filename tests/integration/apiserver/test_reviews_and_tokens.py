"""Access reviews, whoami and TokenRequest over real HTTPS, with kubectl and the official client.

What ``kubectl auth can-i`` answers must be what the next request meets: a target's token is
allowed in its own cluster and refused in another; tokens from ``kubectl create token`` work
in their cluster only, as their ServiceAccount, until they expire or it is deleted.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.apiserver.auth import API_AUDIENCE
from tests.integration.apiserver.clients import ClusterClient
from tests.integration.apiserver.kubectl_runner import Kubectl, kubectl_or_skip
from tests.support.tokens import token_of

#: can-i and create token since 1.27; whoami is GA (authentication.k8s.io/v1) from 1.28.
VERSIONS = ("1.27", "1.31", "1.32", "1.33")
SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
SAR = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
SSR = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
TOKEN_REVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews"


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundAPIServer]:
    directory = tmp_path_factory.mktemp("reviews-apiserver")
    with BackgroundAPIServer(["upstream", "target-1"], directory / "kubeconfigs") as server:
        yield server


@pytest.fixture(scope="module", params=VERSIONS, ids=lambda v: f"kubectl-{v}")
def kubectl(
    request: pytest.FixtureRequest,
    apiserver: BackgroundAPIServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Kubectl:
    """kubectl with target-1's kubeconfig."""
    version: str = request.param
    cache = tmp_path_factory.mktemp(f"reviews-cache-{version}")
    return kubectl_or_skip(version, apiserver.kubeconfigs["target-1"], cache)


def _client(apiserver: BackgroundAPIServer, cluster: str, token: str) -> ClusterClient:
    base = f"{apiserver.url}/clusters/{cluster}" if cluster else apiserver.url
    return ClusterClient(base, token, str(apiserver.ca_file))


def _upstream_server(apiserver: BackgroundAPIServer) -> str:
    return f"--server={apiserver.url}/clusters/upstream"


def test_can_i_is_yes_in_the_tokens_cluster_and_no_in_another(
    kubectl: Kubectl, apiserver: BackgroundAPIServer
) -> None:
    own = kubectl.run("auth", "can-i", "create", "deployments.apps")
    assert own.stdout.strip() == "yes"
    elsewhere = kubectl.run(
        "auth", "can-i", "create", "deployments.apps", _upstream_server(apiserver), check=False
    )
    assert elsewhere.returncode == 1
    assert elsewhere.stdout.startswith("no"), elsewhere.stdout
    assert 'cannot access logical cluster "upstream"' in elsewhere.stdout
    refused = kubectl.run("get", "configmaps", _upstream_server(apiserver), check=False)
    assert refused.returncode != 0, "can-i said no, so the request itself is refused"
    admin = Kubectl(kubectl.binary, apiserver.admin_kubeconfig, kubectl.cache_dir, "default").run(
        "auth", "can-i", "delete", "pods", "--context=upstream"
    )
    assert admin.stdout.strip() == "yes"


def test_can_i_list_shows_everything_at_home_and_only_the_self_reviews_elsewhere(
    kubectl: Kubectl, apiserver: BackgroundAPIServer
) -> None:
    home = kubectl.run("auth", "can-i", "--list").stdout
    assert "*.*" in home.split()
    away = kubectl.run("auth", "can-i", "--list", _upstream_server(apiserver)).stdout
    assert "*.*" not in away.split()
    assert "selfsubjectaccessreviews.authorization.k8s.io" in away


def test_whoami_names_the_tokens_user(kubectl: Kubectl) -> None:
    if kubectl.version < (1, 28):
        pytest.skip("kubectl 1.27 has whoami as an alpha command of v1alpha1 only")
    shown = json.loads(kubectl.run("auth", "whoami", "-o", "json").stdout)
    assert shown["status"]["userInfo"]["username"] == "system:cluster:target-1"
    assert shown["status"]["userInfo"]["extra"] == {"kcp.io/cluster": ["target-1"]}


def test_create_token_is_a_service_account_identity_of_its_cluster_only(
    kubectl: Kubectl, apiserver: BackgroundAPIServer
) -> None:
    account = "robot-" + "-".join(map(str, kubectl.version))
    kubectl.run("create", "serviceaccount", account)
    token = kubectl.run("create", "token", account, "--duration=20m").stdout.strip()
    as_account = Kubectl(kubectl.binary, kubectl.kubeconfig, kubectl.cache_dir, "default")
    listed = as_account.run("get", "serviceaccount", account, f"--token={token}").stdout
    assert account in listed
    if kubectl.version >= (1, 28):
        whoami = as_account.run("auth", "whoami", f"--token={token}").stdout
        assert f"system:serviceaccount:default:{account}" in whoami
    assert as_account.run("auth", "can-i", "create", "pods", f"--token={token}").stdout == "yes\n"
    elsewhere = as_account.run(
        "get", "configmaps", f"--token={token}", _upstream_server(apiserver), check=False
    )
    assert elsewhere.returncode != 0
    kubectl.run("delete", "serviceaccount", account)
    gone = as_account.run("get", "configmaps", f"--token={token}", check=False)
    assert gone.returncode != 0, "a token dies with its ServiceAccount"
    assert "Unauthorized" in gone.stderr or "must be logged in" in gone.stderr, gone.stderr


def test_create_token_refuses_short_durations_and_unknown_accounts(kubectl: Kubectl) -> None:
    short = kubectl.run("create", "token", "default", "--duration=5m", check=False)
    assert short.returncode != 0
    assert "may not specify a duration less than 10 minutes" in short.stderr
    missing = kubectl.run("create", "token", "nobody", check=False)
    assert 'serviceaccounts "nobody" not found' in missing.stderr


def _token_request(
    http: ClusterClient, account: str, spec: dict[str, Any], status: int = 201
) -> dict[str, Any]:
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}
    response = http.post(f"/api/v1/namespaces/default/serviceaccounts/{account}/token", body)
    assert response.status_code == status, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_token_request_expiry_audiences_and_bound_objects(apiserver: BackgroundAPIServer) -> None:
    target = _client(apiserver, "target-1", token_of(apiserver.kubeconfigs["target-1"]))
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    answer = _token_request(target, "default", {"expirationSeconds": 7200})
    assert answer["kind"] == "TokenRequest"
    assert answer["spec"]["audiences"] == [API_AUDIENCE]
    expiry = datetime.datetime.fromisoformat(answer["status"]["expirationTimestamp"])
    assert before + datetime.timedelta(seconds=7200) <= expiry
    assert expiry <= before + datetime.timedelta(seconds=7202)
    token = answer["status"]["token"]
    assert _client(apiserver, "target-1", token).get("/api/v1/namespaces").status_code == 200
    assert _client(apiserver, "upstream", token).get("/api/v1/namespaces").status_code == 403
    assert _client(apiserver, "", token).get("/api").status_code == 200

    vault = _token_request(target, "default", {"audiences": ["vault"]})["status"]["token"]
    assert _client(apiserver, "target-1", vault).get("/api/v1/namespaces").status_code == 401
    reviewed = target.post(
        TOKEN_REVIEWS, {"spec": {"token": vault, "audiences": ["vault", "other"]}}
    ).json()["status"]
    assert reviewed["authenticated"] is True
    assert reviewed["audiences"] == ["vault"]
    assert reviewed["user"]["username"] == "system:serviceaccount:default:default"

    secret = target.post(
        "/api/v1/namespaces/default/secrets", {"metadata": {"name": "binding"}}
    ).json()
    reference = {"kind": "Secret", "apiVersion": "v1", "name": "binding"}
    bound = _token_request(target, "default", {"boundObjectRef": reference})["status"]["token"]
    assert _client(apiserver, "target-1", bound).get("/api/v1/namespaces").status_code == 200
    stale = {**reference, "uid": "not-" + secret["metadata"]["uid"]}
    _token_request(target, "default", {"boundObjectRef": stale}, 409)
    _token_request(target, "default", {"boundObjectRef": {**reference, "kind": "Node"}}, 400)
    assert target.delete("/api/v1/namespaces/default/secrets/binding").status_code == 200
    assert _client(apiserver, "target-1", bound).get("/api/v1/namespaces").status_code == 401


def _access(spec: dict[str, Any], kind: str = "SelfSubjectAccessReview") -> dict[str, Any]:
    return {"apiVersion": "authorization.k8s.io/v1", "kind": kind, "spec": spec}


PODS = {"resourceAttributes": {"verb": "list", "resource": "pods", "namespace": "default"}}


def test_access_reviews_answer_from_the_enforced_rule(apiserver: BackgroundAPIServer) -> None:
    target_token = token_of(apiserver.kubeconfigs["target-1"])
    admin_token = token_of(apiserver.admin_kubeconfig)

    def self_review(cluster: str, token: str) -> dict[str, Any]:
        response = _client(apiserver, cluster, token).post(SSAR, _access(PODS))
        assert response.status_code == 201, response.text
        status: dict[str, Any] = response.json()["status"]
        return status

    assert self_review("target-1", target_token)["allowed"] is True
    denied = self_review("upstream", target_token)
    assert (denied["allowed"], denied["denied"]) == (False, True)
    assert self_review("upstream", admin_token)["allowed"] is True
    probe = {"nonResourceAttributes": {"path": "/healthz", "verb": "get"}}
    away = _client(apiserver, "upstream", target_token).post(SSAR, _access(probe))
    assert away.json()["status"]["allowed"] is True
    both = _client(apiserver, "target-1", target_token).post(SSAR, _access({**PODS, **probe}))
    assert both.status_code == 422
    assert "cannot be specified in combination with resourceAttributes" in both.text

    admin = _client(apiserver, "upstream", admin_token)

    def review_of(spec: dict[str, Any]) -> bool:
        response = admin.post(SAR, _access({**PODS, **spec}, "SubjectAccessReview"))
        assert response.status_code == 201, response.text
        allowed: bool = response.json()["status"]["allowed"]
        return allowed

    assert review_of({"user": "system:cluster:upstream"}) is True
    assert review_of({"user": "system:cluster:target-1"}) is False
    assert review_of({"user": "system:serviceaccount:default:default"}) is True
    foreign = {"user": "system:serviceaccount:default:default", "extra": {"kcp.io/cluster": ["x"]}}
    assert review_of(foreign) is False
    assert review_of({"user": "alice", "groups": ["system:masters"]}) is True
    assert review_of({"user": "alice"}) is False
    nobody = admin.post(SAR, _access(PODS, "SubjectAccessReview"))
    assert nobody.status_code == 422
    assert "at least one of user or group must be specified" in nobody.text
    as_target = _client(apiserver, "target-1", target_token)
    refused = as_target.post(SAR, _access({**PODS, "user": "x"}, "SubjectAccessReview"))
    assert refused.status_code == 403


def test_self_subject_review_in_another_cluster_says_who_the_caller_is(
    apiserver: BackgroundAPIServer,
) -> None:
    target_token = token_of(apiserver.kubeconfigs["target-1"])
    response = _client(apiserver, "upstream", target_token).post(
        SSR, {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"]["userInfo"]["username"] == "system:cluster:target-1"
    missing = _client(apiserver, "nowhere", target_token).post(SSAR, _access(PODS))
    assert missing.status_code == 404


def test_official_client_reviews_and_token_requests(apiserver: BackgroundAPIServer) -> None:
    """The generated client's typed calls, with its own protobuf-free JSON models."""
    api = config.new_client_from_config(config_file=str(apiserver.kubeconfigs["target-1"]))
    with api:
        authorization = client.AuthorizationV1Api(api)
        attributes = client.V1ResourceAttributes(verb="get", resource="secrets")
        spec = client.V1SelfSubjectAccessReviewSpec(resource_attributes=attributes)
        review = authorization.create_self_subject_access_review(
            client.V1SelfSubjectAccessReview(spec=spec)
        )
        assert review.status is not None
        assert review.status.allowed is True
        rules = authorization.create_self_subject_rules_review(
            client.V1SelfSubjectRulesReview(
                spec=client.V1SelfSubjectRulesReviewSpec(namespace="default")
            )
        )
        assert rules.status is not None
        assert rules.status.resource_rules[0].verbs == ["*"]
        whoami = client.AuthenticationV1Api(api).create_self_subject_review(
            client.V1SelfSubjectReview()
        )
        assert whoami.status is not None
        assert whoami.status.user_info is not None
        assert whoami.status.user_info.username == "system:cluster:target-1"
        request = client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=600)
        )
        issued = client.CoreV1Api(api).create_namespaced_service_account_token(
            "default", "default", request
        )
        assert issued.status is not None
        assert issued.spec is not None
        assert issued.spec.expiration_seconds == 600
    token = issued.status.token
    assert token is not None
    assert _client(apiserver, "target-1", token).get("/api/v1/pods").status_code == 200


def _lsar(namespace: str) -> str:
    return f"/apis/authorization.k8s.io/v1/namespaces/{namespace}/localsubjectaccessreviews"


def test_local_subject_access_reviews_answer_within_their_namespace(
    apiserver: BackgroundAPIServer,
) -> None:
    """LocalSubjectAccessReview (``pkg/registry/authorization/localsubjectaccessreview``, with
    ``ValidateLocalSubjectAccessReview`` of ``pkg/apis/authorization/validation``): the
    SubjectAccessReview decision, asked in a namespace by anyone who may create there, its
    ``resourceAttributes.namespace`` equal to the URL's (a 422 otherwise), no non-resource
    attributes, and a 400 for a body naming another namespace."""
    target_token = token_of(apiserver.kubeconfigs["target-1"])
    home = _client(apiserver, "target-1", target_token)
    shop = {"resourceAttributes": {"verb": "get", "resource": "pods", "namespace": "shop"}}

    def decision(user: str) -> dict[str, Any]:
        body = _access({**shop, "user": user}, "LocalSubjectAccessReview")
        response = home.post(_lsar("shop"), body)
        assert response.status_code == 201, response.text
        answer: dict[str, Any] = response.json()
        assert answer["kind"] == "LocalSubjectAccessReview"
        assert answer["metadata"]["namespace"] == "shop"
        return dict(answer["status"])

    assert decision("system:cluster:target-1")["allowed"] is True
    denied = decision("system:cluster:upstream")
    assert (denied["allowed"], denied["denied"]) == (False, True)
    assert denied["reason"] == (
        'user "system:cluster:upstream" cannot access logical cluster "target-1"'
    )

    elsewhere = {"resourceAttributes": {**shop["resourceAttributes"], "namespace": "other"}}
    mismatch = home.post(
        _lsar("shop"), _access({**elsewhere, "user": "u"}, "LocalSubjectAccessReview")
    )
    assert mismatch.status_code == 422, mismatch.text
    assert mismatch.json()["message"] == (
        'LocalSubjectAccessReview.authorization.k8s.io "" is invalid: '
        'spec.resourceAttributes.namespace: Invalid value: "other": must match metadata.namespace'
    )
    probe = {"nonResourceAttributes": {"path": "/healthz", "verb": "get"}, "user": "u"}
    non_resource = home.post(_lsar("shop"), _access(probe, "LocalSubjectAccessReview"))
    assert non_resource.status_code == 422
    assert "spec.nonResourceAttributes" in non_resource.text
    assert "disallowed on this kind of request" in non_resource.text
    other_namespace = _access({**shop, "user": "u"}, "LocalSubjectAccessReview")
    other_namespace["metadata"] = {"namespace": "other"}
    assert home.post(_lsar("shop"), other_namespace).status_code == 400
    away = _client(apiserver, "upstream", target_token)
    body = _access({**shop, "user": "u"}, "LocalSubjectAccessReview")
    assert away.post(_lsar("shop"), body).status_code == 403, "not a self review"

    resources = home.get("/apis/authorization.k8s.io/v1").json()["resources"]
    (entry,) = [r for r in resources if r["name"] == "localsubjectaccessreviews"]
    assert (entry["namespaced"], entry["verbs"], entry["kind"]) == (
        True,
        ["create"],
        "LocalSubjectAccessReview",
    )


def test_official_client_local_subject_access_review(apiserver: BackgroundAPIServer) -> None:
    api = config.new_client_from_config(config_file=str(apiserver.kubeconfigs["target-1"]))
    with api:
        attributes = client.V1ResourceAttributes(verb="list", resource="secrets", namespace="ns")
        spec = client.V1SubjectAccessReviewSpec(
            resource_attributes=attributes, user="system:serviceaccount:ns:builder"
        )
        review = client.AuthorizationV1Api(api).create_namespaced_local_subject_access_review(
            "ns", client.V1LocalSubjectAccessReview(spec=spec)
        )
    assert review.status is not None
    assert review.status.allowed is True, "a service account of target-1 in target-1"


def test_metrics_are_the_admins_and_a_cluster_token_gets_a_forbidden_status(
    apiserver: BackgroundAPIServer,
) -> None:
    """kube-apiserver serves ``/metrics`` to identities with ``get`` on that non-resource URL
    (``system:masters``, or a role such as ``system:monitoring``); a workspace's token, which
    every syncer holds, has none. Refused, the Status is kube-apiserver's: reason Forbidden,
    message ``forbidden: User "<name>" cannot get path "/metrics"`` (``forbiddenMessage`` in
    ``apiserver/pkg/endpoints/handlers/responsewriters/errors.go``)."""
    admin_token = token_of(apiserver.admin_kubeconfig)
    allowed = _client(apiserver, "", admin_token).get("/metrics")
    assert allowed.status_code == 200, allowed.text
    assert "apiserver_request_total" in allowed.text
    for cluster in ("target-1", "upstream"):
        refused = _client(apiserver, "", token_of(apiserver.kubeconfigs[cluster])).get("/metrics")
        assert refused.status_code == 403, refused.text
        status = refused.json()
        assert (status["kind"], status["status"], status["reason"], status["code"]) == (
            "Status",
            "Failure",
            "Forbidden",
            403,
        )
        user = f"system:cluster:{cluster}"
        assert status["message"] == f'forbidden: User "{user}" cannot get path "/metrics"'
        probe = {"nonResourceAttributes": {"path": "/metrics", "verb": "get"}}
        review = _client(apiserver, cluster, token_of(apiserver.kubeconfigs[cluster])).post(
            SSAR, _access(probe)
        )
        assert review.json()["status"]["allowed"] is False
    anonymous = ClusterClient(apiserver.url, None, str(apiserver.ca_file)).get("/metrics")
    assert anonymous.status_code == 401
    review = _client(apiserver, "upstream", admin_token).post(
        SSAR, _access({"nonResourceAttributes": {"path": "/metrics", "verb": "get"}})
    )
    assert review.json()["status"]["allowed"] is True
