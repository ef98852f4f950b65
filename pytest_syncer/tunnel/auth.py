"""Who may open a tunnel: HMAC-signed tokens bound to (workspace, target), optional mutual TLS.

A token reads ``pst1.<payload>.<signature>``: the payload is base64url JSON with the workspace,
the target, issue and expiry times and a random id; the signature is HMAC-SHA256 over
``pst1.<payload>`` with the hub's secret. The hub checks the signature in constant time
before it believes a word of the payload, then the expiry, then that the workspace and target
are the ones in the tunnel URL. Tokens never reach a log: :func:`fingerprint` names one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TOKEN_PREFIX = "pst1"
MIN_SECRET_BYTES = 16
DEFAULT_TTL = 24 * 3600.0
#: Request headers that carry the caller's identity; none of them crosses the tunnel.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
#: Header name prefix a caller could use to act as someone else downstream.
IMPERSONATION_PREFIX = "impersonate-"


class TokenError(Exception):
    """The token does not open this tunnel; ``status`` is the HTTP answer (401 or 403)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class TunnelClaims:
    workspace: str
    target: str
    issued_at: int
    expires_at: int
    token_id: str


def fingerprint(token: str) -> str:
    """A short, non-reversible name for a token, safe to log."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()[:12]


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenAuthority:
    """Mints and verifies tunnel tokens with one secret (the hub's ``--token-secret-file``)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the token secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret

    @classmethod
    def from_file(cls, path: Path) -> TokenAuthority:
        """Read the secret; surrounding whitespace (a trailing newline) is not part of it."""
        return cls(path.read_bytes().strip())

    def _sign(self, signed_part: str) -> str:
        return _b64encode(hmac.new(self._secret, signed_part.encode(), hashlib.sha256).digest())

    def mint(
        self, workspace: str, target: str, *, ttl: float = DEFAULT_TTL, now: float | None = None
    ) -> str:
        if not workspace or not target:
            raise ValueError("a tunnel token names a workspace and a target")
        if ttl <= 0:
            raise ValueError("a tunnel token's ttl must be positive")
        issued = int(time.time() if now is None else now)
        payload = {
            "ws": workspace,
            "tgt": target,
            "iat": issued,
            "exp": issued + max(1, round(ttl)),
            "jti": secrets.token_hex(8),
        }
        body = _b64encode(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        signed_part = f"{TOKEN_PREFIX}.{body}"
        return f"{signed_part}.{self._sign(signed_part)}"

    def verify(
        self, token: str, workspace: str, target: str, *, now: float | None = None
    ) -> TunnelClaims:
        """The token's claims if it opens the tunnel of (workspace, target); else TokenError."""
        prefix, _, rest = token.partition(".")
        body, _, signature = rest.partition(".")
        if prefix != TOKEN_PREFIX or not body or not signature:
            raise TokenError(401, "malformed tunnel token")
        expected = self._sign(f"{prefix}.{body}")
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise TokenError(401, "tunnel token signature does not verify")
        claims = _claims(body)
        if claims.expires_at <= (time.time() if now is None else now):
            raise TokenError(401, "tunnel token has expired")
        if claims.workspace != workspace:
            raise TokenError(403, f"tunnel token is not valid for workspace {workspace!r}")
        if claims.target != target:
            raise TokenError(403, f"tunnel token is not valid for sync target {target!r}")
        return claims


def _claims(body: str) -> TunnelClaims:
    try:
        payload: Any = json.loads(_b64decode(body))
        claims = TunnelClaims(
            workspace=payload["ws"],
            target=payload["tgt"],
            issued_at=payload["iat"],
            expires_at=payload["exp"],
            token_id=payload["jti"],
        )
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise TokenError(401, "malformed tunnel token") from None
    if not all(isinstance(value, str) for value in (claims.workspace, claims.target)):
        raise TokenError(401, "malformed tunnel token")
    if not all(type(value) is int for value in (claims.issued_at, claims.expires_at)):
        raise TokenError(401, "malformed tunnel token")
    return claims


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, if there is one."""
    value = headers.get("Authorization", "")
    scheme, _, token = value.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def certificate_names(peercert: Mapping[str, Any]) -> set[str]:
    """Common names and DNS/URI alternative names of a verified peer certificate
    (the dict ``ssl.SSLSocket.getpeercert()`` returns)."""
    names: set[str] = set()
    for rdn in peercert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                names.add(value)
    for kind, value in peercert.get("subjectAltName", ()):
        if kind in ("DNS", "URI"):
            names.add(value)
    return names


def certificate_names_target(peercert: Mapping[str, Any] | None, target: str) -> bool:
    """Whether a client certificate names the target, so it may open that target's tunnel."""
    return bool(peercert) and target in certificate_names(peercert or {})


def without_credentials(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop every header that carries the caller's identity or asks to impersonate someone:
    downstream, the syncer's own credentials speak instead."""
    return [
        (name, value)
        for name, value in headers
        if name.lower() not in CREDENTIAL_HEADERS
        and not name.lower().startswith(IMPERSONATION_PREFIX)
    ]
