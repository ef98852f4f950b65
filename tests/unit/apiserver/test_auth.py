"""Tokens: per-cluster scope, the admin token, persistence, no leaks through repr."""

from __future__ import annotations

import stat
import time
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.apiserver.auth import API_AUDIENCE, BoundObject, TokenAuthority


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


def _account_token(authority: TokenAuthority, **kwargs: Any) -> str:
    bound = [BoundObject("ServiceAccount", "default", "robot", "uid-1")]
    options: dict[str, Any] = {"audiences": [API_AUDIENCE], "expiration_seconds": 600, **kwargs}
    token, _ = authority.issue(
        "a", bound, options["audiences"], options["expiration_seconds"], now=options.get("now")
    )
    return token


def test_service_account_tokens_are_bound_to_their_cluster_and_expire() -> None:
    authority = TokenAuthority.create()
    identity = authority.authenticate(_account_token(authority))
    assert identity is not None
    assert identity.username == "system:serviceaccount:default:robot"
    assert (identity.cluster, identity.uid) == ("a", "uid-1")
    assert identity.may_access("a")
    assert not identity.may_access("b")
    expired = _account_token(authority, now=time.time() - 601)
    assert authority.authenticate(expired) is None
    not_yet = _account_token(authority, now=time.time() + 60)
    assert authority.authenticate(not_yet) is None
    for_vault = _account_token(authority, audiences=["vault"])
    assert authority.authenticate(for_vault) is None
    vault = authority.authenticate(for_vault, ["vault"])
    assert vault is not None
    assert vault.audiences == ("vault",)


@given(st.integers(min_value=0, max_value=200), st.characters(codec="ascii"))
def test_a_changed_service_account_token_is_refused(position: int, character: str) -> None:
    authority = TokenAuthority.create()
    token = _account_token(authority)
    changed = token[: position % len(token)] + character + token[position % len(token) + 1 :]
    if changed != token:
        assert authority.authenticate(changed) is None
    other = TokenAuthority.create()
    assert other.authenticate(token) is None, "another server's key does not verify it"
