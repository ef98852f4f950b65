"""Tunnel tokens, fuzzed: a token opens exactly its own (workspace, target) until it expires,
and no string at all verifies without the secret."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.tunnel.auth import TokenAuthority, TokenError

names = st.text(min_size=1, max_size=30)
authority = TokenAuthority(b"property-test-secret-32-bytes!!!")
NOW = 1_800_000_000.0


@given(names, names, names, names, st.integers(1, 10**6), st.integers(0, 2 * 10**6))
def test_a_token_opens_exactly_its_own_tunnel_until_it_expires(
    workspace: str, target: str, asked_workspace: str, asked_target: str, ttl: int, age: int
) -> None:
    token = authority.mint(workspace, target, ttl=ttl, now=NOW)
    should_open = (asked_workspace, asked_target) == (workspace, target) and age < ttl
    if should_open:
        claims = authority.verify(token, asked_workspace, asked_target, now=NOW + age)
        assert (claims.workspace, claims.target) == (workspace, target)
    else:
        with pytest.raises(TokenError) as caught:
            authority.verify(token, asked_workspace, asked_target, now=NOW + age)
        assert caught.value.status in (401, 403)


@given(st.text(max_size=300))
def test_no_string_verifies_without_the_secret(token: str) -> None:
    with pytest.raises(TokenError):
        authority.verify(token, "ws", "t", now=NOW)
