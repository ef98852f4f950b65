"""Tunnel tokens and client certificates: who may open which tunnel."""

from __future__ import annotations

import pytest

from pytest_syncer.tunnel.auth import (
    TokenAuthority,
    TokenError,
    bearer_token,
    certificate_names_target,
    fingerprint,
    without_credentials,
)

SECRET = b"s3cret-for-the-unit-tests-only!!"
NOW = 1_800_000_000.0


@pytest.fixture
def authority() -> TokenAuthority:
    return TokenAuthority(SECRET)


def test_a_token_opens_its_own_tunnel(authority: TokenAuthority) -> None:
    token = authority.mint("root:org:ws", "us-east1", ttl=60, now=NOW)
    claims = authority.verify(token, "root:org:ws", "us-east1", now=NOW + 59)
    assert (claims.workspace, claims.target, claims.expires_at) == (
        "root:org:ws",
        "us-east1",
        int(NOW) + 60,
    )


@pytest.mark.parametrize(
    ("workspace", "target", "status", "reason"),
    [
        ("root:org:ws", "us-west1", 403, "sync target"),
        ("root:org:other", "us-east1", 403, "workspace"),
    ],
)
def test_a_token_never_opens_another_tunnel(
    authority: TokenAuthority, workspace: str, target: str, status: int, reason: str
) -> None:
    token = authority.mint("root:org:ws", "us-east1", ttl=60, now=NOW)
    with pytest.raises(TokenError, match=reason) as caught:
        authority.verify(token, workspace, target, now=NOW)
    assert caught.value.status == status


def test_an_expired_token_is_refused_even_when_replayed(authority: TokenAuthority) -> None:
    token = authority.mint("ws", "t", ttl=10, now=NOW)
    authority.verify(token, "ws", "t", now=NOW + 9)
    for later in (NOW + 10, NOW + 3600):
        with pytest.raises(TokenError, match="expired") as caught:
            authority.verify(token, "ws", "t", now=later)
        assert caught.value.status == 401


def test_a_token_signed_with_another_secret_is_refused(authority: TokenAuthority) -> None:
    forged = TokenAuthority(b"another-secret-of-enough-bytes!!").mint("ws", "t", now=NOW)
    with pytest.raises(TokenError, match="signature") as caught:
        authority.verify(forged, "ws", "t", now=NOW)
    assert caught.value.status == 401


def test_an_edited_payload_breaks_the_signature(authority: TokenAuthority) -> None:
    token = authority.mint("ws", "a", now=NOW)
    other = authority.mint("ws", "b", now=NOW)
    spliced = ".".join([*other.split(".")[:2], token.split(".")[2]])
    with pytest.raises(TokenError, match="signature"):
        authority.verify(spliced, "ws", "b", now=NOW)


@pytest.mark.parametrize("token", ["", "pst1", "pst1..", "jwt.a.b", "pst1.!!!.x", "a b c"])
def test_malformed_tokens_are_refused(authority: TokenAuthority, token: str) -> None:
    with pytest.raises(TokenError) as caught:
        authority.verify(token, "ws", "t", now=NOW)
    assert caught.value.status == 401


def test_a_correctly_signed_but_malformed_payload_is_refused(authority: TokenAuthority) -> None:
    body = "eyJ3cyI6MX0"  # {"ws":1}
    token = f"pst1.{body}.{authority._sign(f'pst1.{body}')}"
    with pytest.raises(TokenError, match="malformed"):
        authority.verify(token, "ws", "t", now=NOW)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        TokenAuthority(b"short")


def test_the_secret_file_may_end_in_a_newline(tmp_path) -> None:
    path = tmp_path / "secret"
    path.write_bytes(SECRET + b"\n")
    token = TokenAuthority.from_file(path).mint("ws", "t", now=NOW)
    TokenAuthority(SECRET).verify(token, "ws", "t", now=NOW)


def test_fingerprints_do_not_reveal_the_token(authority: TokenAuthority) -> None:
    token = authority.mint("ws", "t", now=NOW)
    name = fingerprint(token)
    assert name.startswith("sha256:")
    assert not any(part in name for part in token.split("."))
    assert fingerprint(token) == name != fingerprint(token + "x")


@pytest.mark.parametrize(
    ("header", "expected"),
    [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), ("Bearer ", None)],
)
def test_bearer_token(header: str, expected: str | None) -> None:
    assert bearer_token({"Authorization": header}) == expected
    assert bearer_token({}) is None


def test_client_certificates_name_their_target() -> None:
    peercert = {
        "subject": ((("organizationName", "syncers"),), (("commonName", "us-east1"),)),
        "subjectAltName": (("DNS", "eu-west1"), ("IP Address", "10.0.0.1")),
    }
    assert certificate_names_target(peercert, "us-east1")
    assert certificate_names_target(peercert, "eu-west1")
    assert not certificate_names_target(peercert, "syncers")
    assert not certificate_names_target(peercert, "10.0.0.1")
    assert not certificate_names_target(None, "us-east1")
    assert not certificate_names_target({}, "us-east1")


def test_credentials_and_impersonation_never_cross_the_tunnel() -> None:
    headers = [
        ("Authorization", "Bearer caller"),
        ("proxy-authorization", "x"),
        ("Cookie", "c"),
        ("Impersonate-User", "admin"),
        ("Impersonate-Group", "system:masters"),
        ("Accept", "application/json"),
    ]
    assert without_credentials(headers) == [("Accept", "application/json")]
