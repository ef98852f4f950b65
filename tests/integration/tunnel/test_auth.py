"""Who gets in: tunnel upgrades and proxy callers, each refusal over real HTTPS, and no
token or secret in any process's log."""

from __future__ import annotations

import ssl
import time

import aiohttp
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from pytest_syncer.harness.waiting import await_until
from pytest_syncer.tunnel.auth import TokenAuthority, fingerprint
from pytest_syncer.tunnel.server import tunnel_url
from tests.support.tokens import bearer

from .conftest import OTHER_WORKSPACE, TARGET, WORKSPACE, Environment, mint


async def upgrade_status(env: Environment, token: str | None, target: str = TARGET) -> int:
    """The HTTP status of a tunnel upgrade (101 when the hub accepts it)."""
    headers = bearer(token) if token is not None else {}
    context = ssl.create_default_context(cafile=env.hub_ca)
    try:
        async with connect(
            tunnel_url(env.hub_url, WORKSPACE, target),
            additional_headers=headers,
            ssl=context,
            compression=None,
            open_timeout=10,
        ):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


def remember(env: Environment, token: str) -> str:
    env.tokens_used.add(token)
    return token


async def test_tunnel_upgrades_are_refused_without_a_token_for_exactly_this_target(
    env_ready: Environment,
) -> None:
    env = env_ready
    forged = TokenAuthority(b"not-the-hub-secret-at-all-000000").mint(WORKSPACE, TARGET)
    expired = TokenAuthority.from_file(env.secret).mint(
        WORKSPACE, TARGET, ttl=60, now=time.time() - 3600
    )
    cases = {
        "no token": (None, 401),
        "a bad signature": (forged, 401),
        "an expired token": (expired, 401),
        "another target's token": (mint(env.secret, WORKSPACE, "t2"), 403),
        "another workspace's token": (mint(env.secret, OTHER_WORKSPACE, TARGET), 403),
    }
    seen = {}
    for case, (token, _) in cases.items():
        if token is not None:
            remember(env, token)
        seen[case] = await upgrade_status(env, token)
    assert seen == {case: code for case, (_, code) in cases.items()}


async def test_a_replayed_upgrade_after_expiry_is_refused(env_ready: Environment) -> None:
    env = env_ready
    token = remember(env, mint(env.secret, WORKSPACE, "replayed", ttl=2))
    assert await upgrade_status(env, token, target="replayed") == 101
    await await_until(
        lambda: upgrade_status(env, token, target="replayed"),
        lambda status: status == 401,
        what="the replayed upgrade to be refused once the token expired",
        timeout=10,
        interval=0.25,
    )


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("no token", 401),
        ("a bad token", 401),
        ("a bad signature", 401),
        ("a tunnel token", 401),
        ("another target's tunnel token", 401),
        ("an expired tunnel token", 401),
        ("another workspace's token", 401),
        ("the downstream cluster's own token", 401),
        ("a workspace the upstream does not let the hub review", 403),
    ],
)
async def test_proxy_callers_are_refused_without_a_token_the_upstream_accepts(
    http: aiohttp.ClientSession, env_ready: Environment, case: str, code: int
) -> None:
    env = env_ready
    authority = TokenAuthority.from_file(env.secret)
    url = env.proxy_url("/version")
    tokens = {
        "no token": None,
        "a bad token": "not-a-token",
        "a bad signature": TokenAuthority(b"not-the-hub-secret-at-all-000000").mint(
            WORKSPACE, TARGET
        ),
        "a tunnel token": authority.mint(WORKSPACE, TARGET),
        "another target's tunnel token": authority.mint(WORKSPACE, "t2"),
        "an expired tunnel token": authority.mint(WORKSPACE, TARGET, ttl=1, now=0),
        "another workspace's token": env.token(OTHER_WORKSPACE),
        "the downstream cluster's own token": env.token(TARGET),
        "a workspace the upstream does not let the hub review": env.token(WORKSPACE),
    }
    if case == "a workspace the upstream does not let the hub review":
        url = env.proxy_url("/version", workspace=OTHER_WORKSPACE)
    token = tokens[case]
    headers = bearer(remember(env, token)) if token else {}
    async with http.get(url, headers=headers) as response:
        status = await response.json()
    assert (response.status, status["kind"], status["code"]) == (code, "Status", code)


async def test_no_token_or_secret_reaches_a_log(
    http: aiohttp.ClientSession, env_ready: Environment
) -> None:
    env = env_ready
    # Make sure the log has seen refusals and traffic of every kind first.
    wrong_target = remember(env, mint(env.secret, WORKSPACE, "t2"))
    assert await upgrade_status(env, wrong_target) == 403
    async with http.get(env.proxy_url("/version"), headers=env.caller()) as response:
        assert response.status == 200
    async with http.get(env.proxy_url("/version"), headers=bearer("wrong-token-value")) as response:
        assert response.status == 401
    env.tokens_used.update(
        {"wrong-token-value", (env.work / "t1.token").read_text().strip(), env.token(TARGET)}
    )
    logs = env.logs()
    # The events were logged, naming tokens by fingerprint only.
    assert f"tunnel refused (token {fingerprint(wrong_target)})" in logs
    assert "proxy refused" in logs
    leaked = [token[:12] + "..." for token in env.tokens_used if token in logs]
    assert leaked == []
    assert env.secret.read_text().strip() not in logs
