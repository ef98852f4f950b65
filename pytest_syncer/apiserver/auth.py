"""Bearer tokens: one per logical cluster, valid there only, and one admin token valid everywhere.

Tokens are looked up by their SHA-256 digest and confirmed with a constant-time comparison, so
neither the lookup nor the check leaks how much of a guessed token was right. Tokens never
appear in logs or in ``repr``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from pytest_syncer.apiserver.certs import write_private_file

ADMIN_USER = "system:admin"
TOKENS_FILE = "tokens.json"


@dataclass(frozen=True)
class Identity:
    """Who a token belongs to: the admin (``cluster is None``) or one logical cluster."""

    username: str
    cluster: str | None

    @property
    def is_admin(self) -> bool:
        return self.cluster is None

    def may_access(self, cluster: str) -> bool:
        return self.cluster is None or self.cluster == cluster


def cluster_username(cluster: str) -> str:
    return f"system:cluster:{cluster}"


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class BearerTokens:
    """The tokens of every cluster and the admin's; persisted (0600) with a data dir.

    Random tokens kept and looked up, nothing signed: the tunnel's ``TokenAuthority`` is the one
    that mints and verifies signed tokens.
    """

    admin_token: str = field(repr=False)
    cluster_tokens: dict[str, str] = field(default_factory=dict, repr=False)
    _identities: dict[bytes, tuple[bytes, Identity]] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        self._remember(self.admin_token, Identity(ADMIN_USER, None))
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

    def authenticate(self, token: str) -> Identity | None:
        digest = _digest(token)
        found = self._identities.get(digest)
        if found is None or not hmac.compare_digest(found[0], digest):
            return None
        return found[1]
