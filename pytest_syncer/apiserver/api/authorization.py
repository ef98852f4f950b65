"""Authorization: the one rule the server enforces, and the reviews that report it.

The rule: the admin token may do everything everywhere; a cluster's token, and the service
account tokens issued in that cluster, may do everything in that cluster and nothing in any
other; only the admin reaches the wildcard ``/clusters/*``. Roles and bindings are not
consulted. The HTTP layer refuses requests by :func:`denial`, and the
``authorization.k8s.io/v1`` reviews answer from the same function, so ``kubectl auth can-i``
says what the next request will meet. As in Kubernetes (the ``system:basic-user`` role), any
authenticated user may ask the self reviews (``selfsubjectaccessreviews``,
``selfsubjectrulesreviews``, ``authentication.k8s.io`` ``selfsubjectreviews``) about itself,
in any cluster; SubjectAccessReview, about others, is the admin's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.token_review import TokenHolder, user_info
from pytest_syncer.apiserver.api.validation.field_errors import FieldError, invalid

AUTHORIZATION = "authorization.k8s.io"
AUTHENTICATION = "authentication.k8s.io"
WILDCARD = "*"
#: Served to anyone, token or not (the server's health probes).
PUBLIC_PATHS = ("/healthz", "/livez", "/readyz")
#: Served outside every logical cluster, to the admin alone.
ROOT_PATHS = ("/metrics",)
#: Resources any authenticated user may create in any cluster: the reviews about itself.
SELF_REVIEWS = frozenset(
    {
        (AUTHORIZATION, "selfsubjectaccessreviews"),
        (AUTHORIZATION, "selfsubjectrulesreviews"),
        (AUTHENTICATION, "selfsubjectreviews"),
    }
)


def non_resource_denial(identity: TokenHolder, verb: str, path: str) -> str | None:
    """Why ``identity`` may not ``verb`` the non-resource URL ``path`` outside any cluster
    (``/metrics``), or None if it may: the admin's alone, as ``system:masters`` holds ``get``
    on every ``nonResourceURLs`` in Kubernetes and no workspace's token does. The message is
    kube-apiserver's (``forbiddenMessage`` in ``apiserver/pkg/endpoints/handlers/
    responsewriters/errors.go``, behind ``forbidden: `` from ``NewForbidden``)."""
    if identity.is_admin or path in PUBLIC_PATHS:
        return None
    return f'forbidden: User "{identity.username}" cannot {verb} path "{path}"'


def denial(identity: TokenHolder, cluster: str) -> str | None:
    """Why ``identity`` may not act in ``cluster`` (``*``: the wildcard), or None if it may."""
    if cluster == WILDCARD:
        if identity.is_admin:
            return None
        return f'user "{identity.username}" cannot access the wildcard cluster "*"'
    if identity.may_access(cluster):
        return None
    return f'user "{identity.username}" cannot access logical cluster "{cluster}"'


@dataclass(frozen=True)
class Subject:
    """A user a SubjectAccessReview asks about, as this server would authenticate it."""

    username: str
    cluster: str | None
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: tuple[tuple[str, str], ...] = ()
    audiences: tuple[str, ...] = ()

    @property
    def is_admin(self) -> bool:
        return self.cluster is None

    def may_access(self, cluster: str) -> bool:
        return self.cluster is None or self.cluster == cluster


def _subject(spec: dict[str, Any], cluster: str) -> Subject | None:
    """Who ``spec.user``/``groups``/``extra`` is to this server: the admin (or anyone in
    ``system:masters``), a cluster's token user, a service account (of ``extra``'s
    ``kcp.io/cluster``, else of ``cluster``), or no one a token of this server could be."""
    username = str(spec.get("user") or "")
    groups = tuple(str(g) for g in spec.get("groups") or ())
    extra = spec.get("extra") or {}
    named = extra.get("kcp.io/cluster") if isinstance(extra, dict) else None
    if username == "system:admin" or "system:masters" in groups:
        return Subject(username, None, groups=groups)
    if username.startswith("system:cluster:"):
        return Subject(username, username.removeprefix("system:cluster:"), groups=groups)
    if username.startswith("system:serviceaccount:"):
        home = str(named[0]) if isinstance(named, list) and named else cluster
        return Subject(username, home, groups=groups)
    return None


def _review(kind: str, group: str, spec: Any, status: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": kind,
        "apiVersion": f"{group}/v1",
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": status,
    }


def _invalid(kind: str, errors: list[FieldError]) -> APIError:
    summary = errors[0] if len(errors) == 1 else "[" + ", ".join(map(str, errors)) + "]"
    return APIError(
        422,
        f'{kind}.{AUTHORIZATION} "" is invalid: {summary}',
        name="",
        kind=kind,
        group=AUTHORIZATION,
        causes=[error.to_cause() for error in errors],
    )


def _spec(
    kind: str, body: dict[str, Any], *, about_others: bool, more: tuple[FieldError, ...] = ()
) -> dict[str, Any]:
    """The spec of an access review, checked as Kubernetes' authorization validation does
    (``more``: the kind's own errors, listed after the spec's)."""
    spec = body.get("spec")
    if not isinstance(spec, dict):
        spec = {}
    errors = []
    resource, non_resource = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if resource is not None and non_resource is not None:
        detail = "cannot be specified in combination with resourceAttributes"
        errors.append(invalid("spec.nonResourceAttributes", non_resource, detail))
    if resource is None and non_resource is None:
        detail = "exactly one of nonResourceAttributes or resourceAttributes must be specified"
        errors.append(invalid("spec.resourceAttributes", None, detail))
    if about_others and not spec.get("user") and not spec.get("groups"):
        errors.append(invalid("spec.user", "", "at least one of user or group must be specified"))
    errors.extend(more)
    if errors:
        raise _invalid(kind, errors)
    return spec


def _decision(subject: TokenHolder | None, cluster: str, spec: dict[str, Any]) -> dict[str, Any]:
    non_resource = spec.get("nonResourceAttributes")
    if isinstance(non_resource, dict) and non_resource.get("path") in PUBLIC_PATHS:
        return {"allowed": True, "reason": "the health probes are served to anyone"}
    if subject is None:
        return {
            "allowed": False,
            "denied": True,
            "reason": "no token of this server authenticates as that user",
        }
    refused = denial(subject, cluster)
    if (
        refused is None
        and isinstance(non_resource, dict)
        and non_resource.get("path") in (ROOT_PATHS)
    ):
        verb = str(non_resource.get("verb") or "get")
        refused = non_resource_denial(subject, verb, str(non_resource["path"]))
    if refused is not None:
        return {"allowed": False, "denied": True, "reason": refused}
    if subject.is_admin:
        return {"allowed": True, "reason": "the admin token may do everything in every cluster"}
    return {
        "allowed": True,
        "reason": f'the tokens of logical cluster "{cluster}" may do everything in it',
    }


def self_subject_access_review(
    identity: TokenHolder, cluster: str, body: dict[str, Any]
) -> dict[str, Any]:
    """May the caller do what ``spec`` describes in ``cluster``?"""
    spec = _spec("SelfSubjectAccessReview", body, about_others=False)
    return _review(
        "SelfSubjectAccessReview", AUTHORIZATION, spec, _decision(identity, cluster, spec)
    )


def subject_access_review(
    identity: TokenHolder, cluster: str, body: dict[str, Any]
) -> dict[str, Any]:
    """May the user ``spec`` names do what it describes in ``cluster``? The admin's to ask."""
    if not identity.is_admin:
        raise APIError(
            403,
            f'subjectaccessreviews.authorization.k8s.io is forbidden: User "{identity.username}" '
            'cannot create resource "subjectaccessreviews" in API group "authorization.k8s.io" '
            "at the cluster scope",
            reason="Forbidden",
            kind="subjectaccessreviews",
            group=AUTHORIZATION,
        )
    spec = _spec("SubjectAccessReview", body, about_others=True)
    decision = _decision(_subject(spec, cluster), cluster, spec)
    return _review("SubjectAccessReview", AUTHORIZATION, spec, decision)


def local_subject_access_review(
    cluster: str, namespace: str, body: dict[str, Any]
) -> dict[str, Any]:
    """A SubjectAccessReview within ``namespace``: the same decision, asked by anyone who may
    create objects there (``pkg/registry/authorization/localsubjectaccessreview`` and
    ``ValidateLocalSubjectAccessReview`` in ``pkg/apis/authorization/validation``: metadata
    empty but for the namespace, ``spec.resourceAttributes.namespace`` equal to it, no
    ``nonResourceAttributes``). The namespace need not exist (NamespaceLifecycle admission
    exempts this resource)."""
    kind = "LocalSubjectAccessReview"
    given = body.get("metadata")
    metadata: dict[str, Any] = given if isinstance(given, dict) else {}
    if metadata.get("namespace") not in (None, "", namespace):
        raise APIError(
            400,
            "the namespace of the provided object does not match the namespace sent on the request",
        )
    errors = []
    others = {
        key: value
        for key, value in metadata.items()
        if key not in ("namespace", "managedFields") and value not in (None, "", {}, [])
    }
    if others:
        errors.append(invalid("metadata", others, "must be empty except for namespace"))
    given_spec = body.get("spec")
    spec_in: dict[str, Any] = given_spec if isinstance(given_spec, dict) else {}
    resource = spec_in.get("resourceAttributes")
    if isinstance(resource, dict) and (resource.get("namespace") or "") != namespace:
        errors.append(
            invalid(
                "spec.resourceAttributes.namespace",
                resource.get("namespace") or "",
                "must match metadata.namespace",
            )
        )
    non_resource = spec_in.get("nonResourceAttributes")
    if non_resource is not None:
        detail = "disallowed on this kind of request"
        errors.append(invalid("spec.nonResourceAttributes", non_resource, detail))
    spec = _spec(kind, body, about_others=True, more=tuple(errors))
    review = _review(kind, AUTHORIZATION, spec, _decision(_subject(spec, cluster), cluster, spec))
    review["metadata"] = {"namespace": namespace, "creationTimestamp": None}
    return review


def self_subject_rules_review(
    identity: TokenHolder, cluster: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Everything the caller may do in ``cluster`` (``kubectl auth can-i --list``)."""
    given = body.get("spec")
    spec: dict[str, Any] = given if isinstance(given, dict) else {}
    public = {"verbs": ["get"], "nonResourceURLs": list(PUBLIC_PATHS)}
    if denial(identity, cluster) is None:
        resource_rules = [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]
        everything = {"verbs": ["*"], "nonResourceURLs": ["*"]}
        served = ["/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*", "/version"]
        in_cluster = {"verbs": ["*"], "nonResourceURLs": served}
        non_resource_rules = [everything if identity.is_admin else in_cluster, public]
    else:
        resource_rules = [
            {
                "verbs": ["create"],
                "apiGroups": [group],
                "resources": [resource],
            }
            for group, resource in sorted(SELF_REVIEWS)
        ]
        non_resource_rules = [public]
    status = {
        "resourceRules": resource_rules,
        "nonResourceRules": non_resource_rules,
        "incomplete": False,
    }
    return _review("SelfSubjectRulesReview", AUTHORIZATION, spec, status)


def self_subject_review(identity: TokenHolder, cluster: str) -> dict[str, Any]:
    """Who the caller is (``kubectl auth whoami``)."""
    return {
        "kind": "SelfSubjectReview",
        "apiVersion": f"{AUTHENTICATION}/v1",
        "metadata": {"creationTimestamp": None},
        "status": {"userInfo": user_info(identity, cluster)},
    }
