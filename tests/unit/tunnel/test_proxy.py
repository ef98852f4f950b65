"""The hub's proxy through a real tunnel to a stand-in downstream, all in this process."""

from __future__ import annotations

import asyncio
import ssl

import aiohttp
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from yarl import URL

from pytest_syncer.harness.waiting import await_until
from pytest_syncer.tunnel.client import DownstreamForwarder
from pytest_syncer.tunnel.manager import Backoff, TunnelManager, TunnelState
from pytest_syncer.tunnel.server import MAX_PROXIED_BODY

from .conftest import DOWNSTREAM_TOKEN, TARGET, WORKSPACE, Rig, decode_lines


async def test_get_reaches_the_downstream_with_its_own_credentials(rig: Rig) -> None:
    headers = {
        **rig.user(),
        "Impersonate-User": "system:admin",
        "Cookie": "session=abc",
        "Accept": "application/json",
    }
    async with rig.client.get(
        rig.proxy_url("/api/v1/namespaces/default/configmaps/cm1?x=1"), headers=headers
    ) as response:
        assert response.status == 200, await response.text()
        assert await response.json() == {"kind": "ConfigMap", "metadata": {"name": "cm1"}}
    seen = rig.downstream.requests[-1]
    assert seen == {
        "method": "GET",
        "path": "/api/v1/namespaces/default/configmaps/cm1?x=1",
        "authorization": f"Bearer {DOWNSTREAM_TOKEN}",
        "impersonate": "",
        "cookie": "",
    }


async def test_post_carries_its_body(rig: Rig) -> None:
    body = {"metadata": {"name": "cm2"}, "data": {"k": "v" * 100_000}}
    async with rig.client.post(
        rig.proxy_url("/api/v1/namespaces/default/configmaps"), json=body, headers=rig.user()
    ) as response:
        assert response.status == 201
        assert await response.json() == body


async def test_a_watch_streams_events_as_they_happen(rig: Rig) -> None:
    async with rig.client.get(
        rig.proxy_url("/api/v1/configmaps?watch=true"), headers=rig.user()
    ) as response:
        assert response.status == 200
        for n in range(3):
            rig.downstream.watch_events.put_nowait(b'{"type":"ADDED","n":%d}\n' % n)
            line = await asyncio.wait_for(response.content.readline(), 5)
            assert decode_lines(line) == [{"type": "ADDED", "n": n}]
        rig.downstream.watch_events.put_nowait(b"")
        assert await asyncio.wait_for(response.content.read(), 5) == b""


async def test_many_open_watches_leave_room_for_other_requests(rig: Rig) -> None:
    watches = [
        await rig.client.get(rig.proxy_url("/api/v1/configmaps?watch=1"), headers=rig.user())
        for _ in range(80)
    ]
    try:
        assert {watch.status for watch in watches} == {200}
        async with rig.client.get(
            rig.proxy_url("/api/v1/namespaces/default/configmaps/beside"), headers=rig.user()
        ) as response:
            assert response.status == 200
    finally:
        for watch in watches:
            watch.close()


async def test_a_caller_that_goes_away_frees_its_stream(rig: Rig) -> None:
    watch = await rig.client.get(rig.proxy_url("/api/v1/configmaps?watch=1"), headers=rig.user())
    assert watch.status == 200
    await await_until(
        lambda: asyncio.sleep(0, rig.manager.health()["streams_open"]),
        lambda count: count == 1,
        what="the watch's stream to be open on the syncer's side",
        timeout=5,
    )
    watch.close()
    await await_until(
        lambda: asyncio.sleep(0, rig.manager.health()["streams_open"]),
        lambda count: count == 0,
        what="the syncer to drop the stream of the caller that went away",
        timeout=5,
    )


async def test_a_tunnel_lost_mid_body_fails_the_callers_read(rig: Rig) -> None:
    async with rig.client.get(
        rig.proxy_url("/api/v1/configmaps?watch=1"), headers=rig.user()
    ) as watch:
        rig.downstream.watch_events.put_nowait(b'{"type":"ADDED"}\n')
        assert await asyncio.wait_for(watch.content.readline(), 5) == b'{"type":"ADDED"}\n'
        assert rig.hub.tunnels is not None
        session = rig.hub.tunnels.registry.get((WORKSPACE, TARGET))
        assert session is not None
        await session.close(1011, "test drops the tunnel")
        with pytest.raises(aiohttp.ClientPayloadError):
            await asyncio.wait_for(watch.content.read(), 5)


async def test_paths_off_the_allow_list_are_refused_downstream_side(rig: Rig) -> None:
    before = len(rig.downstream.requests)
    for path in ("/metrics", "/api/../metrics", "/api/v1/%2e%2e/x", "/apis//x"):
        url = URL(rig.proxy_url(path), encoded=True)
        async with rig.client.get(url, headers=rig.user()) as response:
            status = await response.json()
            assert response.status == 403, (path, status)
            assert status["kind"] == "Status"
            assert "not reachable through the tunnel" in status["message"]
    assert len(rig.downstream.requests) == before


async def test_a_target_without_a_tunnel_gets_503(rig: Rig) -> None:
    async with rig.client.get(
        rig.proxy_url("/api", target="nowhere"), headers=rig.user()
    ) as response:
        assert response.status == 503
        status = await response.json()
        assert status["reason"] == "ServiceUnavailable"
        assert "no tunnel" in status["message"]


async def test_a_response_past_the_deadline_gets_504(rig: Rig) -> None:
    assert rig.hub.tunnels is not None
    rig.hub.tunnels.response_timeout = 0.2
    async with rig.client.get(rig.proxy_url("/api/v1/slow"), headers=rig.user()) as response:
        assert response.status == 504
        assert (await response.json())["reason"] == "Timeout"
    async with rig.client.get(rig.proxy_url("/version"), headers=rig.user()) as response:
        assert response.status in (200, 404)


async def test_a_stalled_reader_never_blocks_other_requests(rig: Rig) -> None:
    async with rig.client.get(
        rig.proxy_url("/api/v1/firehose?blocks=512"), headers=rig.user()
    ) as stalled:
        assert stalled.status == 200
        # Never read the 32 MiB body: its stream's credit runs out, others must flow.

        async def get(n: int) -> int:
            async with rig.client.get(
                rig.proxy_url(f"/api/v1/namespaces/default/configmaps/c{n}"), headers=rig.user()
            ) as response:
                await response.read()
                return response.status

        statuses = await asyncio.wait_for(asyncio.gather(*(get(n) for n in range(50))), 20)
        assert statuses == [200] * 50
        body = await asyncio.wait_for(stalled.read(), 20)
        assert len(body) == 512 * 65536


async def test_two_hundred_concurrent_streams(rig: Rig) -> None:
    """200 requests held open below at once: 200 live streams in one tunnel, then all answer."""
    assert rig.hub.ca_file is not None
    unlimited = aiohttp.TCPConnector(
        limit=0, ssl=ssl.create_default_context(cafile=str(rig.hub.ca_file))
    )

    async def get(client: aiohttp.ClientSession) -> int:
        async with client.get(rig.proxy_url("/api/v1/slow"), headers=rig.user()) as response:
            assert await response.json() == {"slow": True}
            return response.status

    async with aiohttp.ClientSession(connector=unlimited) as client:
        requests = asyncio.gather(*(get(client) for _ in range(200)))
        try:
            await await_until(
                lambda: asyncio.sleep(0, rig.manager.health()["streams_open"]),
                lambda open_streams: open_streams == 200,
                what="200 streams open in the tunnel at once",
                timeout=30,
            )
        finally:
            rig.downstream.release_slow.set()
        statuses = await asyncio.wait_for(requests, 30)
    assert statuses == [200] * 200


async def test_a_new_tunnel_replaces_the_old_without_dropping_its_requests(rig: Rig) -> None:
    def manager(name: str, backoff: Backoff) -> TunnelManager:
        return TunnelManager(
            rig.tunnel_url(target="eu-west1"),
            rig.manager.forwarder,
            token=rig.authority.mint(WORKSPACE, "eu-west1", ttl=60),
            ca_file=rig.hub.ca_file,
            backoff=backoff,
            name=name,
        )

    # The first one redials only after a minute: it plays a syncer that went away.
    async with manager("first", Backoff(60, 60)) as first:
        await first.wait_connected(10)
        response = await rig.client.get(
            rig.proxy_url("/api/v1/firehose?blocks=64", target="eu-west1"), headers=rig.user()
        )
        assert response.status == 200
        assert first.counters.tunnel.streams_opened == 1
        async with manager("second", Backoff(0.01, 0.05)) as second:
            await second.wait_connected(10)
            body = await asyncio.wait_for(response.read(), 10)
            assert len(body) == 64 * 65536
            response.release()
            async with rig.client.get(
                rig.proxy_url("/api", target="eu-west1"), headers=rig.user()
            ) as later:
                await later.read()
            assert second.counters.tunnel.streams_opened == 1
            assert first.counters.tunnel.streams_opened == 1


async def test_a_dropped_connection_is_redialled(rig: Rig) -> None:
    assert rig.hub.tunnels is not None
    session = rig.hub.tunnels.registry.get((WORKSPACE, TARGET))
    assert session is not None
    await session.close(1011, "test drops the tunnel")
    await await_until(
        lambda: asyncio.sleep(0, rig.manager.counters.reconnects),
        lambda reconnects: reconnects >= 1,
        what="the manager to reconnect",
        timeout=10,
    )
    await rig.manager.wait_connected(10)
    assert rig.manager.state is TunnelState.CONNECTED
    async with rig.client.get(
        rig.proxy_url("/api/v1/namespaces/default/configmaps/back"), headers=rig.user()
    ) as response:
        assert response.status == 200
    health = rig.manager.health()
    assert health["connects"] == 2
    assert health["errors"] >= 1
    assert health["bytes_received"] > 0


async def test_the_manager_keeps_redialling_a_hub_that_refuses_it(rig: Rig) -> None:
    forwarder: DownstreamForwarder = rig.manager.forwarder
    refused = TunnelManager(
        rig.tunnel_url(target="other"),
        forwarder,
        token=rig.authority.mint(WORKSPACE, TARGET, ttl=60),
        ca_file=rig.hub.ca_file,
        backoff=Backoff(0.01, 0.02),
        name="refused",
    )
    async with refused:
        await await_until(
            lambda: asyncio.sleep(0, refused.counters.refused),
            lambda count: count >= 3,
            what="three refused dials",
            timeout=10,
        )
        assert not refused.connected
    assert refused.state is TunnelState.STOPPED


async def test_proxy_callers_need_a_token_the_upstream_accepts(rig: Rig) -> None:
    cases = {
        "none": ({}, 401),
        "bad": ({"Authorization": "Bearer nope"}, 401),
        "other workspace": (rig.user("root:org:other"), 401),
    }
    for name, (headers, code) in cases.items():
        async with rig.client.get(rig.proxy_url("/api"), headers=headers) as response:
            assert response.status == code, name
            assert (await response.json())["kind"] == "Status"


async def test_token_reviews_are_shared_and_cached(rig: Rig) -> None:
    async def get() -> int:
        url = rig.proxy_url("/api/v1/namespaces/default/configmaps/cached")
        async with rig.client.get(url, headers=rig.user()) as response:
            await response.read()
            return response.status

    first = await asyncio.gather(*(get() for _ in range(20)))
    second = await asyncio.gather(*(get() for _ in range(20)))
    assert first == second == [200] * 20
    assert rig.reviews == [WORKSPACE]


async def test_a_caller_hanging_up_mid_review_leaves_the_others_served(rig: Rig) -> None:
    url = rig.proxy_url("/api/v1/namespaces/default/configmaps/review")
    rig.review_gate.clear()
    first = asyncio.create_task(rig.client.get(url, headers=rig.user()))
    await await_until(
        lambda: asyncio.sleep(0, len(rig.reviews)),
        lambda count: count == 1,
        what="the upstream to receive the review",
        timeout=5,
    )
    second = asyncio.create_task(rig.client.get(url, headers=rig.user()))
    first.cancel()
    rig.review_gate.set()
    response = await asyncio.wait_for(second, 5)
    assert response.status == 200
    response.release()
    assert rig.reviews == [WORKSPACE]


async def test_the_tunnel_endpoint_wants_a_websocket(rig: Rig) -> None:
    token = rig.authority.mint(WORKSPACE, TARGET, ttl=60)
    tunnel = rig.tunnel_url().replace("wss://", "https://")
    async with rig.client.get(tunnel, headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 400
    async with rig.client.get(
        f"{rig.hub.url}/clusters/BAD_WS/targets/{TARGET}/proxy/api", headers=rig.user()
    ) as response:
        assert response.status == 400
        assert isinstance(response, aiohttp.ClientResponse)


async def test_a_body_over_the_limit_gets_413(rig: Rig) -> None:
    async with rig.client.post(
        rig.proxy_url("/api/v1/namespaces/default/configmaps"),
        data=b"x" * (MAX_PROXIED_BODY + 1),
        headers=rig.user(),
    ) as response:
        assert response.status == 413
        assert (await response.json())["reason"] == "RequestEntityTooLarge"


async def test_garbage_on_a_tunnel_closes_only_that_tunnel(rig: Rig) -> None:
    token = rig.authority.mint(WORKSPACE, "garbage", ttl=60)
    async with connect(
        rig.tunnel_url(target="garbage"),
        additional_headers={"Authorization": f"Bearer {token}"},
        ssl=rig.hub_ssl(),
    ) as websocket:
        await websocket.send(b"\xff not a frame")
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(websocket.recv(), 5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1002
    async with rig.client.get(
        rig.proxy_url("/api/v1/namespaces/default/configmaps/ok"), headers=rig.user()
    ) as response:
        assert response.status == 200


async def test_stopping_the_manager_drains_the_requests_in_flight(rig: Rig) -> None:
    slow = asyncio.create_task(rig.client.get(rig.proxy_url("/api/v1/slow"), headers=rig.user()))
    await await_until(
        lambda: asyncio.sleep(0, rig.manager.health()["streams_open"]),
        lambda count: count == 1,
        what="the slow request to reach the syncer",
        timeout=5,
    )
    stopping = asyncio.create_task(rig.manager.stop())
    assert rig.hub.tunnels is not None
    registry = rig.hub.tunnels.registry
    await await_until(
        lambda: asyncio.sleep(0, registry.get((WORKSPACE, TARGET))),
        lambda session: session is None,
        what="the hub to stop routing to the draining tunnel",
        timeout=5,
    )
    assert rig.manager.state is TunnelState.DRAINING
    async with rig.client.get(rig.proxy_url("/api/v1/slow"), headers=rig.user()) as refused:
        assert refused.status == 503
    rig.downstream.release_slow.set()
    response = await asyncio.wait_for(slow, 5)
    assert response.status == 200
    assert await response.json() == {"slow": True}
    await asyncio.wait_for(stopping, 5)
    assert rig.manager.health()["state"] == "stopped"
