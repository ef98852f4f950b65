"""Tokens: per-cluster scope, the admin token, persistence, no leaks through repr."""

from __future__ import annotations

import stat
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.apiserver.auth import TokenAuthority


def test_cluster_tokens_are_scoped_and_admin_is_everywhere() -> None:
    authority = TokenAuthority.create()
    a = authority.add_cluster("a")
    authority.add_cluster("b")
    identity = authority.authenticate(a)
    assert identity is not None
    assert identity.username == "system:cluster:a"
    assert identity.may_access("a")
    assert not identity.may_access("b")
    assert not identity.is_admin
    admin = authority.authenticate(authority.admin_token)
    assert admin is not None
    assert admin.is_admin
    assert admin.may_access("b")
    assert authority.add_cluster("a") == a, "a cluster keeps its token"


@given(st.text(max_size=60))
def test_guesses_are_refused(guess: str) -> None:
    authority = TokenAuthority.create()
    token = authority.add_cluster("a")
    if guess not in (token, authority.admin_token):
        assert authority.authenticate(guess) is None


def test_tokens_persist_privately_and_stay_out_of_repr(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    authority = TokenAuthority.load_or_create(path)
    token = authority.add_cluster("a")
    authority.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = TokenAuthority.load_or_create(path)
    assert loaded.clusters == ["a"]
    assert loaded.authenticate(token) is not None
    assert loaded.admin_token == authority.admin_token
    assert token not in repr(loaded)
    assert authority.admin_token not in repr(loaded)
