"""TokenReview (``authentication.k8s.io/v1``): whether a token is valid, and for which cluster.

The syncer's tunnel asks it to tell which logical cluster a token belongs to. As in Kubernetes
(``k8s.io/api/authentication/v1`` TokenReview), the answer echoes the spec without the token and
reports ``status.authenticated`` with the user, or an ``error``; the kcp cluster is given in the
user's ``extra`` under ``kcp.io/cluster``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pytest_syncer.apiserver.api.errors import APIError


class TokenHolder(Protocol):
    """Who a token belongs to: the admin (no cluster) or one logical cluster."""

    @property
    def username(self) -> str: ...

    @property
    def cluster(self) -> str | None: ...

    @property
    def is_admin(self) -> bool: ...

    def may_access(self, cluster: str) -> bool: ...


Authenticate = Callable[[str], TokenHolder | None]


def check_root_reviewer(reviewer: TokenHolder) -> None:
    """A TokenReview outside any logical cluster asks about every cluster: the admin's alone."""
    if not reviewer.is_admin:
        raise APIError(
            403,
            f'user "{reviewer.username}" cannot review tokens outside its logical cluster',
        )


def review_token(
    cluster: str | None, body: dict[str, Any], authenticate: Authenticate
) -> dict[str, Any]:
    """Whether ``spec.token`` is valid for ``cluster`` (for any cluster at the root)."""
    spec = body.get("spec") or {}
    token = spec.get("token") if isinstance(spec, dict) else None
    if not isinstance(token, str) or not token:
        raise APIError(
            422,
            "TokenReview is invalid: spec.token: Required value",
            kind="TokenReview",
            group="authentication.k8s.io",
            causes=[
                {
                    "reason": "FieldValueRequired",
                    "message": "Required value",
                    "field": "spec.token",
                }
            ],
        )
    identity = authenticate(token)
    status: dict[str, Any]
    if identity is not None and (cluster is None or identity.may_access(cluster)):
        belongs_to = identity.cluster or cluster
        status = {
            "authenticated": True,
            "user": {
                "username": identity.username,
                "uid": identity.username,
                "groups": ["system:authenticated"]
                + (["system:masters"] if identity.is_admin else []),
                "extra": {"kcp.io/cluster": [belongs_to]} if belongs_to else {},
            },
            "audiences": list(spec.get("audiences") or []),
        }
    else:
        status = {
            "authenticated": False,
            "error": f'the token is not valid for logical cluster "{cluster}"'
            if cluster
            else "the token is not valid for any logical cluster",
        }
    echoed_spec = {**spec, "token": ""}
    return {
        "kind": "TokenReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": echoed_spec,
        "status": status,
    }
