"""Bearer tokens: one per logical cluster, valid there only, one admin token valid everywhere,
and service account tokens (TokenRequest) bound to one cluster, one ServiceAccount and a time.

Static tokens are looked up by their SHA-256 digest and confirmed with a constant-time
comparison, so neither the lookup nor the check leaks how much of a guessed token was right.
Service account tokens are JWTs, as Kubernetes issues them, signed with HMAC-SHA256 under a key
derived from the admin token (so they survive a restart with a data dir and need no state of
their own); whether their ServiceAccount still exists is the server's to check. Tokens never
appear in logs or in ``repr``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_syncer.apiserver.certs import write_private_file

ADMIN_USER = "system:admin"
TOKENS_FILE = "tokens.json"
AUTHENTICATED = "system:authenticated"
#: The audience (and issuer) of kube-apiserver's own tokens in kind and kubeadm clusters: tokens
#: requested without audiences get it, and only tokens for it are accepted by this server.
API_AUDIENCE = "https://kubernetes.default.svc.cluster.local"
CLUSTER_CLAIM = "kcp.io/cluster"
_JWT_HEADER = {"alg": "HS256", "typ": "JWT"}


@dataclass(frozen=True)
class BoundObject:
    """What a service account token is bound to: its ServiceAccount, or a Pod or Secret."""

    kind: str
    namespace: str
    name: str
    uid: str


@dataclass(frozen=True)
class Identity:
    """Who a token belongs to: the admin (``cluster is None``), one logical cluster, or a
    service account of one cluster (``bound_to``: the ServiceAccount first)."""

    username: str
    cluster: str | None
    uid: str = ""
    groups: tuple[str, ...] = (AUTHENTICATED,)
    #: The user's extra attributes besides ``kcp.io/cluster`` (a service account token's id).
    extra: tuple[tuple[str, str], ...] = ()
    #: The audiences a service account token was issued for (empty for static tokens).
    audiences: tuple[str, ...] = ()
    bound_to: tuple[BoundObject, ...] = ()

    @property
    def is_admin(self) -> bool:
        return self.cluster is None

    def may_access(self, cluster: str) -> bool:
        return self.cluster is None or self.cluster == cluster


def service_account_username(namespace: str, name: str) -> str:
    return f"system:serviceaccount:{namespace}:{name}"


def cluster_username(cluster: str) -> str:
    return f"system:cluster:{cluster}"


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class BearerTokens:
    """The tokens of every cluster and the admin's; persisted (0600) with a data dir.

    Random tokens kept and looked up, plus the service account JWTs (TokenRequest) it signs and
    verifies; not to be confused with the tunnel's ``TokenAuthority``, which mints the syncers'
    tunnel tokens.
    """

    admin_token: str = field(repr=False)
    cluster_tokens: dict[str, str] = field(default_factory=dict, repr=False)
    _identities: dict[bytes, tuple[bytes, Identity]] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        self._remember(
            self.admin_token, Identity(ADMIN_USER, None, groups=(AUTHENTICATED, "system:masters"))
        )
        for cluster, token in self.cluster_tokens.items():
            self._remember(token, Identity(cluster_username(cluster), cluster))

    @classmethod
    def create(cls) -> BearerTokens:
        return cls(admin_token=new_token())

    @classmethod
    def load(cls, path: Path) -> BearerTokens:
        document = json.loads(path.read_text())
        return cls(admin_token=document["admin"], cluster_tokens=dict(document["clusters"]))

    @classmethod
    def load_or_create(cls, path: Path) -> BearerTokens:
        if path.exists():
            return cls.load(path)
        tokens = cls.create()
        tokens.save(path)
        return tokens

    def save(self, path: Path) -> None:
        document = {"admin": self.admin_token, "clusters": self.cluster_tokens}
        path.parent.mkdir(parents=True, exist_ok=True)
        write_private_file(path, json.dumps(document, indent=2).encode())

    def _remember(self, token: str, identity: Identity) -> None:
        digest = _digest(token)
        self._identities[digest] = (digest, identity)

    @property
    def clusters(self) -> list[str]:
        return list(self.cluster_tokens)

    def add_cluster(self, cluster: str) -> str:
        """Give ``cluster`` a token (once; an existing cluster keeps its token)."""
        if cluster not in self.cluster_tokens:
            token = new_token()
            self.cluster_tokens[cluster] = token
            self._remember(token, Identity(cluster_username(cluster), cluster))
        return self.cluster_tokens[cluster]

    def authenticate(self, token: str, audiences: Sequence[str] = ()) -> Identity | None:
        """Who ``token`` is; a service account token must be unexpired and for one of
        ``audiences`` (this server's own when none are given)."""
        if token.count(".") == 2:
            return self._service_account(token, tuple(audiences) or (API_AUDIENCE,))
        digest = _digest(token)
        found = self._identities.get(digest)
        if found is None or not hmac.compare_digest(found[0], digest):
            return None
        return found[1]

    def _signature(self, signed: bytes) -> bytes:
        key = hmac.new(self.admin_token.encode(), b"service account tokens", "sha256").digest()
        return hmac.new(key, signed, "sha256").digest()

    def issue(
        self,
        cluster: str,
        bound_to: Sequence[BoundObject],
        audiences: Sequence[str],
        expiration_seconds: int,
        now: float | None = None,
    ) -> tuple[str, int]:
        """A token for the ServiceAccount ``bound_to[0]`` of ``cluster``: (token, expiry time).

        The claims are those of Kubernetes' bound service account tokens (``sub``, ``aud``,
        ``exp``, ``kubernetes.io`` naming the ServiceAccount and the object it is bound to),
        plus the logical cluster."""
        issued = int(time.time() if now is None else now)
        account = bound_to[0]
        private: dict[str, Any] = {
            "namespace": account.namespace,
            "serviceaccount": {"name": account.name, "uid": account.uid},
        }
        for bound in bound_to[1:]:
            private[bound.kind.lower()] = {"name": bound.name, "uid": bound.uid}
        claims = {
            "aud": list(audiences),
            "exp": issued + expiration_seconds,
            "iat": issued,
            "nbf": issued,
            "iss": API_AUDIENCE,
            "jti": str(uuid.uuid4()),
            "sub": service_account_username(account.namespace, account.name),
            "kubernetes.io": private,
            CLUSTER_CLAIM: cluster,
        }
        signed = f"{_b64(_compact(_JWT_HEADER))}.{_b64(_compact(claims))}"
        signature = self._signature(signed.encode())
        return f"{signed}.{_b64(signature)}", issued + expiration_seconds

    def _service_account(self, token: str, audiences: tuple[str, ...]) -> Identity | None:
        signed, _, signature = token.rpartition(".")
        # Compared as text: base64 decoding ignores stray characters and spare bits.
        expected = _b64(self._signature(signed.encode()))
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            return None
        try:
            claims = json.loads(_unb64(signed.partition(".")[2]))
        except (ValueError, binascii.Error):
            return None
        now = time.time()
        if not claims["nbf"] <= now < claims["exp"]:
            return None
        accepted = tuple(a for a in claims["aud"] if a in audiences)
        if not accepted:
            return None
        private = claims["kubernetes.io"]
        namespace = private["namespace"]
        account = private["serviceaccount"]
        bound = [BoundObject("ServiceAccount", namespace, account["name"], account["uid"])]
        for kind in ("Pod", "Secret"):
            if kind.lower() in private:
                found = private[kind.lower()]
                bound.append(BoundObject(kind, namespace, found["name"], found["uid"]))
        return Identity(
            service_account_username(namespace, account["name"]),
            claims[CLUSTER_CLAIM],
            uid=account["uid"],
            groups=("system:serviceaccounts", f"system:serviceaccounts:{namespace}", AUTHENTICATED),
            extra=(("authentication.kubernetes.io/credential-id", f"JTI={claims['jti']}"),),
            audiences=accepted,
            bound_to=tuple(bound),
        )


def _compact(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
