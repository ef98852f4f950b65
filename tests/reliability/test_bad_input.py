"""Bad input on the real environment: each refused with a clear error, nothing lost elsewhere.

What is already proven elsewhere is not repeated here (docs/reliability.md lists where):
objects the target refuses (tests/integration/syncer/test_bad_input.py), a kind whose CRD
only the upstream has (test_bad_input_crd.py), garbage and truncated frames decoded
(tests/property/test_tunnel_protocol.py) and garbage on one in-process tunnel
(tests/unit/tunnel/test_proxy.py). Here: invalid, oversized and unknown-kind manifests sent to
the upstream the syncers watch, and garbage, unknown and oversized frames sent to the real hub
process, while a workload placed on several targets must stay and keep syncing, and every
other target's tunnel must keep serving.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator

import aiohttp
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from pytest_syncer.harness.environment import SyncerEnvironment
from pytest_syncer.harness.workloads import WorkloadFactory
from pytest_syncer.tunnel.auth import TokenAuthority
from pytest_syncer.tunnel.endpoint import ClusterEndpoint
from pytest_syncer.tunnel.protocol import HEADER, VERSION, FrameType
from pytest_syncer.tunnel.server import tunnel_url
from pytest_syncer.tunnel.session import MAX_MESSAGE_SIZE
from tests.support.tokens import bearer

pytestmark = pytest.mark.syncer_e2e

MIB = 1024 * 1024


def configmap(name: str, data: object) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


BAD_MANIFESTS = {
    "malformed JSON": (
        "configmaps",
        b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {',
        (400, "BadRequest", "the request body is not valid JSON"),
    ),
    "not an object": ("configmaps", b"[1, 2]", (400, "BadRequest", "must be a JSON object")),
    "nested past the parser's depth": (
        "configmaps",
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        (400, "BadRequest", "depth limit exceeded"),
    ),
    "another kind than the URL's": (
        "configmaps",
        json.dumps({"apiVersion": "unknown.example/v1", "kind": "Gizmo", "metadata": {}}).encode(),
        (400, "BadRequest", "(Gizmo) does not match the kind of the URL (ConfigMap)"),
    ),
    "an invalid field": (
        "configmaps",
        json.dumps(configmap("typed", {"k": 5})).encode(),
        (422, "Invalid", 'ConfigMap "typed" is invalid: data[k]'),
    ),
    "an invalid name": (
        "configmaps",
        json.dumps(configmap("Not_A_Name", {})).encode(),
        (422, "Invalid", "a lowercase RFC 1123 subdomain"),
    ),
    "data over 1 MiB": (
        "configmaps",
        json.dumps(configmap("big", {"k": "x" * (MIB + 10)})).encode(),
        (422, "Invalid", "Too long: must have at most 1048576 bytes"),
    ),
    "a body over 3 MiB": (
        "configmaps",
        json.dumps(configmap("huge", {"k": "x" * (3 * MIB + 10)})).encode(),
        (413, "RequestEntityTooLarge", "larger than 3145728 bytes"),
    ),
    "an unknown kind": (
        "gizmos.unknown.example",
        json.dumps(
            {"apiVersion": "unknown.example/v1", "kind": "Gizmo", "metadata": {"name": "g"}}
        ).encode(),
        (404, "NotFound", "could not find the requested resource"),
    ),
}


@pytest.fixture
async def upstream_http(
    syncer_env: SyncerEnvironment,
) -> AsyncIterator[tuple[aiohttp.ClientSession, ClusterEndpoint]]:
    endpoint = ClusterEndpoint.from_kubeconfig(syncer_env.clusters.upstream_kubeconfig)
    connector = aiohttp.TCPConnector(ssl=endpoint.ssl_context)
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session, endpoint


async def test_bad_manifests_upstream_are_refused_and_placed_workloads_keep_syncing(
    workload: WorkloadFactory,
    upstream_http: tuple[aiohttp.ClientSession, ClusterEndpoint],
) -> None:
    http, endpoint = upstream_http
    settings = workload("configmap.yaml", targets=min(3, workload.env.size))
    settings.wait_synced()
    refused: dict[str, tuple[int, str, bool]] = {}
    for case, (resource, body, (_, _, says)) in BAD_MANIFESTS.items():
        if resource == "configmaps":
            path = f"/api/v1/namespaces/{workload.namespace}/configmaps"
        else:
            path = f"/apis/unknown.example/v1/namespaces/{workload.namespace}/gizmos"
        async with http.post(
            endpoint.base_url + path,
            data=body,
            headers={
                "Authorization": endpoint.authorization or "",
                "Content-Type": "application/json",
            },
        ) as response:
            status = await response.json()
        refused[case] = (status["code"], status["reason"], says in status["message"])
        assert (response.status, status["kind"]) == (status["code"], "Status"), case
    expected = {
        case: (code, reason, True) for case, (_, _, (code, reason, _)) in BAD_MANIFESTS.items()
    }
    assert refused == expected
    # Nothing was lost: the placed workload takes an update to every target, nothing else
    # appeared upstream.
    settings.update({"data": {"mode": "after-bad-input"}})
    settings.wait_converged()
    names = [
        obj["metadata"]["name"]
        for obj in workload.env.upstream.list(settings.kind, workload.namespace)
    ]
    assert sorted(name for name in names if name != "kube-root-ca.crt") == ["settings"]


def frame(kind: int, stream: int, payload: bytes) -> bytes:
    return HEADER.pack(VERSION, kind, 0, stream, len(payload)) + payload


GARBAGE: dict[str, tuple[bytes | str, int]] = {
    "random bytes": (b"\xff\x00 not a frame at all", 1002),
    "an unknown frame type": (frame(99, 1, b""), 1002),
    "a frame longer than its message": (HEADER.pack(VERSION, FrameType.DATA, 0, 1, 1 << 30), 1002),
    "a text message": ("a text frame on a binary protocol", 1002),
    "a message over the size limit": (b"\0" * (MAX_MESSAGE_SIZE + 1), 1009),
}


async def test_garbage_and_oversized_tunnel_frames_close_only_that_tunnel(
    syncer_env: SyncerEnvironment,
) -> None:
    env = syncer_env
    workspace = env.clusters.upstream_cluster
    authority = TokenAuthority.from_file(env.workdir / "hub-secret")
    context = ssl.create_default_context(cafile=str(env.hub_ca))
    closed: dict[str, int | None] = {}
    for case, (message, _) in GARBAGE.items():
        intruder = "intruder-" + case.replace(" ", "-")
        token = authority.mint(workspace, intruder, ttl=60)
        async with connect(
            tunnel_url(env.hub_url, workspace, intruder),
            additional_headers=bearer(token),
            ssl=context,
            compression=None,
            open_timeout=10,
            max_size=None,
        ) as websocket:
            await websocket.send(message)
            try:
                async with asyncio.timeout(30):
                    while True:
                        await websocket.recv()
            except ConnectionClosed as error:
                closed[case] = error.rcvd.code if error.rcvd is not None else None
    assert closed == {case: code for case, (_, code) in GARBAGE.items()}
    # Every real target's tunnel still serves the upstream's callers.
    upstream = ClusterEndpoint.from_kubeconfig(env.clusters.upstream_kubeconfig)
    served: dict[str, int] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as http:
        for name in sorted(env.targets):
            url = f"{env.hub_url}/clusters/{workspace}/targets/{name}/proxy/version"
            async with http.get(url, headers={"Authorization": upstream.authorization or ""}) as r:
                served[name] = r.status
    assert served == dict.fromkeys(sorted(env.targets), 200)
