"""Tokens: per-cluster scope, the admin token, persistence, no leaks through repr."""

from __future__ import annotations

import stat
import time
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.apiserver.auth import API_AUDIENCE, BearerTokens, BoundObject


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


def _account_token(tokens: BearerTokens, **kwargs: Any) -> str:
    bound = [BoundObject("ServiceAccount", "default", "robot", "uid-1")]
    options: dict[str, Any] = {"audiences": [API_AUDIENCE], "expiration_seconds": 600, **kwargs}
    token, _ = tokens.issue(
        "a", bound, options["audiences"], options["expiration_seconds"], now=options.get("now")
    )
    return token


def test_service_account_tokens_are_bound_to_their_cluster_and_expire() -> None:
    tokens = BearerTokens.create()
    identity = tokens.authenticate(_account_token(tokens))
    assert identity is not None
    assert identity.username == "system:serviceaccount:default:robot"
    assert (identity.cluster, identity.uid) == ("a", "uid-1")
    assert identity.may_access("a")
    assert not identity.may_access("b")
    expired = _account_token(tokens, now=time.time() - 601)
    assert tokens.authenticate(expired) is None
    not_yet = _account_token(tokens, now=time.time() + 60)
    assert tokens.authenticate(not_yet) is None
    for_vault = _account_token(tokens, audiences=["vault"])
    assert tokens.authenticate(for_vault) is None
    vault = tokens.authenticate(for_vault, ["vault"])
    assert vault is not None
    assert vault.audiences == ("vault",)


@given(st.integers(min_value=0, max_value=200), st.characters(codec="ascii"))
def test_a_changed_service_account_token_is_refused(position: int, character: str) -> None:
    tokens = BearerTokens.create()
    token = _account_token(tokens)
    changed = token[: position % len(token)] + character + token[position % len(token) + 1 :]
    if changed != token:
        assert tokens.authenticate(changed) is None
    other = BearerTokens.create()
    assert other.authenticate(token) is None, "another server's key does not verify it"
