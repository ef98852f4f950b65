"""Requests through a real tunnel: hub, agent and API server as processes, over HTTPS."""

from __future__ import annotations

import asyncio
import json
import signal
import ssl
from typing import Any

import aiohttp

from pytest_syncer.harness.waiting import await_until

from .conftest import TARGET, Environment, Relay, start_agent

CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


async def create_directly(
    http: aiohttp.ClientSession, env: Environment, name: str, data: dict[str, str], **labels: str
) -> dict[str, Any]:
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels},
        "data": data,
    }
    async with http.post(
        env.direct_url(CONFIGMAPS), json=body, headers=env.downstream()
    ) as response:
        assert response.status == 201, await response.text()
        created: dict[str, Any] = await response.json()
        return created


async def proxied_status(
    http: aiohttp.ClientSession, env: Environment, path: str, target: str = TARGET
) -> int:
    async with http.get(env.proxy_url(path, target=target), headers=env.caller()) as response:
        await response.read()
        return response.status


async def test_get_through_the_tunnel(http: aiohttp.ClientSession, env_ready: Environment) -> None:
    env = env_ready
    created = await create_directly(http, env, "via-get", {"k": "v"})
    async with http.get(env.proxy_url(f"{CONFIGMAPS}/via-get"), headers=env.caller()) as response:
        assert response.status == 200
        fetched = await response.json()
    assert fetched["metadata"]["uid"] == created["metadata"]["uid"]
    assert fetched["data"] == {"k": "v"}


async def test_post_with_a_body_through_the_tunnel(
    http: aiohttp.ClientSession, env_ready: Environment
) -> None:
    env = env_ready
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "via-post"},
        "data": {"payload": "x" * 300_000},
    }
    async with http.post(env.proxy_url(CONFIGMAPS), json=body, headers=env.caller()) as response:
        assert response.status == 201, await response.text()
    async with http.get(env.direct_url(f"{CONFIGMAPS}/via-post"), headers=env.downstream()) as got:
        assert (await got.json())["data"]["payload"] == "x" * 300_000


async def test_a_watch_flows_through_the_tunnel(
    http: aiohttp.ClientSession, env_ready: Environment
) -> None:
    env = env_ready
    async with http.get(
        env.proxy_url(f"{CONFIGMAPS}?watch=true&labelSelector=watched%3Dyes"),
        headers=env.caller(),
    ) as watch:
        assert watch.status == 200
        for n in range(3):
            await create_directly(http, env, f"watched-{n}", {"n": str(n)}, watched="yes")
            line = await asyncio.wait_for(watch.content.readline(), 10)
            event = json.loads(line)
            assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", f"watched-{n}")


async def test_two_hundred_concurrent_streams(
    http: aiohttp.ClientSession, env_ready: Environment
) -> None:
    """200 watches open through one tunnel at the same time (a connection each: no client
    pool limit), every one of them sees the next event, and a GET still gets through."""
    env = env_ready
    context = ssl.create_default_context(cafile=env.hub_ca)
    path = f"{CONFIGMAPS}?watch=true&labelSelector=crowd%3Dyes"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, ssl=context)) as crowd:
        watches = await asyncio.wait_for(
            asyncio.gather(
                *(crowd.get(env.proxy_url(path), headers=env.caller()) for _ in range(200))
            ),
            60,
        )
        try:
            assert [watch.status for watch in watches] == [200] * 200
            assert await proxied_status(http, env, "/version") == 200
            await create_directly(http, env, "concurrent", {"k": "v"}, crowd="yes")
            lines = await asyncio.wait_for(
                asyncio.gather(*(watch.content.readline() for watch in watches)), 60
            )
            seen = {
                (event["type"], event["object"]["metadata"]["name"])
                for event in map(json.loads, lines)
            }
            assert seen == {("ADDED", "concurrent")}
        finally:
            for watch in watches:
                watch.close()


async def test_a_stalled_stream_while_others_keep_flowing(
    http: aiohttp.ClientSession, env_ready: Environment
) -> None:
    env = env_ready
    for n in range(3):
        await create_directly(http, env, f"big-{n}", {"blob": str(n) * 900_000}, big="yes")
    stalled = await http.get(
        env.proxy_url(f"{CONFIGMAPS}?labelSelector=big%3Dyes"), headers=env.caller()
    )
    try:
        assert stalled.status == 200
        # Nobody reads the 2.7 MB list yet: its stream runs out of credit; the rest flows.
        statuses = await asyncio.wait_for(
            asyncio.gather(*(proxied_status(http, env, "/version") for _ in range(50))), 30
        )
        assert statuses == [200] * 50
        listed = json.loads(await asyncio.wait_for(stalled.read(), 30))
        assert sorted(item["metadata"]["name"] for item in listed["items"]) == [
            "big-0",
            "big-1",
            "big-2",
        ]
    finally:
        stalled.release()


async def test_a_cut_tunnel_gives_503_then_the_manager_reconnects(
    http: aiohttp.ClientSession, env_ready: Environment
) -> None:
    env = env_ready
    connects_before = env.agent.log_path.read_text().count("tunnel connected")
    env.relay.cut()
    try:
        await await_until(
            lambda: proxied_status(http, env, "/version"),
            lambda status: status == 503,
            what="the hub to notice the cut tunnel",
            timeout=15,
        )
        for _ in range(5):
            assert await proxied_status(http, env, "/version") == 503
    finally:
        env.relay.restore()
    await await_until(
        lambda: proxied_status(http, env, "/version"),
        lambda status: status == 200,
        what="requests to flow again after the manager redials",
        timeout=15,
    )
    assert env.agent.log_path.read_text().count("tunnel connected") > connects_before


async def test_a_silent_connection_is_found_by_the_ping_timeout_and_redialled(
    http: aiohttp.ClientSession, env_ready: Environment
) -> None:
    """No FIN, no RST, just silence: only the agent's websocket ping finds it."""
    env = env_ready
    relay = Relay(env.hub_port)
    agent = start_agent(
        env.work,
        env.secret,
        env.kubeconfig(TARGET),
        env.hub_ca,
        relay.port,
        target="pinged",
        ping=("0.3", "0.6"),
    )
    try:
        await await_until(
            lambda: proxied_status(http, env, "/version", target="pinged"),
            lambda status: status == 200,
            what="the tunnel of target pinged to serve",
            timeout=15,
        )
        connects = agent.log_path.read_text().count("tunnel connected")
        relay.freeze()
        log: str = await await_until(
            lambda: asyncio.to_thread(agent.log_path.read_text),
            lambda text: text.count("tunnel connected") > connects,
            what="the agent to drop the silent connection and dial again",
            timeout=20,
        )
        assert "target=pinged tunnel connection lost" in log
        await await_until(
            lambda: proxied_status(http, env, "/version", target="pinged"),
            lambda status: status == 200,
            what="requests to target pinged to flow over the new tunnel",
            timeout=15,
        )
    finally:
        agent.stop()
        relay.close()


async def test_a_killed_hub_is_redialled_once_it_is_back(
    http: aiohttp.ClientSession, env_ready: Environment
) -> None:
    env = env_ready
    env.hub.signal(signal.SIGKILL)
    env.hub.stop()
    env.restart_hub()
    await await_until(
        lambda: proxied_status(http, env, "/version"),
        lambda status: status == 200,
        what="the agent to reconnect to the restarted hub",
        timeout=20,
    )
