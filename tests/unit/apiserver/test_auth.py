"""Tokens: per-cluster scope, the admin token, persistence, no leaks through repr."""

from __future__ import annotations

import stat
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.apiserver.auth import BearerTokens


def test_cluster_tokens_are_scoped_and_admin_is_everywhere() -> None:
    tokens = BearerTokens.create()
    a = tokens.add_cluster("a")
    tokens.add_cluster("b")
    identity = tokens.authenticate(a)
    assert identity is not None
    assert identity.username == "system:cluster:a"
    assert identity.may_access("a")
    assert not identity.may_access("b")
    assert not identity.is_admin
    admin = tokens.authenticate(tokens.admin_token)
    assert admin is not None
    assert admin.is_admin
    assert admin.may_access("b")
    assert tokens.add_cluster("a") == a, "a cluster keeps its token"


@given(st.text(max_size=60))
def test_guesses_are_refused(guess: str) -> None:
    tokens = BearerTokens.create()
    token = tokens.add_cluster("a")
    if guess not in (token, tokens.admin_token):
        assert tokens.authenticate(guess) is None


def test_tokens_persist_privately_and_stay_out_of_repr(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    tokens = BearerTokens.load_or_create(path)
    token = tokens.add_cluster("a")
    tokens.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = BearerTokens.load_or_create(path)
    assert loaded.clusters == ["a"]
    assert loaded.authenticate(token) is not None
    assert loaded.admin_token == tokens.admin_token
    assert token not in repr(loaded)
    assert tokens.admin_token not in repr(loaded)
