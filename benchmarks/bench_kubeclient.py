"""The CPU a `KubeClient` process spends per request, beside a plain aiohttp session's.

A syncer pool's requests are the client's unary path (create, patch, delete, get); this times
that path alone: a real ``pytest-syncer apiserver`` process serves one logical cluster, and a
client process (``--client``) makes ``--count`` ConfigMap creates and deletes one after
another, then as many with ``--concurrency`` in flight. The figure is the client process's own
CPU (``time.process_time``) per request, which the machine's load barely moves, unlike
wall-clock time. Beside it, from the same run, the same requests through a bare
``aiohttp.ClientSession`` (keep-alive, the kubeconfig's CA and token, nothing else), and with
``--baseline DIR`` this benchmark's client on another checkout's code (its ``PYTHONPATH``).
Rounds alternate them. The last stdout line is
``{"this": {...}, "aiohttp": {...}, ["baseline": {...}], ...}``: µs of client CPU per request
and requests/s, each the best of the rounds.

    python benchmarks/bench_kubeclient.py [--baseline DIR] [--count N] [--rounds R] [--json F]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _body(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "default"}, "data": {"k": "v" * 200}}


async def _timed(
    client: Any, cycle: Callable[[Any, str], Awaitable[None]], count: int, concurrency: int
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    await cycle(client, "warm-up")
    for label, parallel in (("sequential", 1), ("concurrent", concurrency)):
        names = iter([f"{label}-{index}" for index in range(count)])
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(_worker(client, names, cycle) for _ in range(parallel)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        result[f"{label}_us_per_request"] = round(1e6 * cpu / (2 * count), 1)
        result[f"{label}_requests_per_s"] = round(2 * count / wall, 1)
    return result


async def _client(kubeconfig: str, count: int, concurrency: int) -> dict[str, Any]:
    from pytest_syncer.kubeclient.client import KubeClient, Resource

    configmaps = Resource("", "v1", "configmaps", "ConfigMap")

    async def cycle(client: KubeClient, name: str) -> None:
        await client.create(configmaps, _body(name))
        await client.delete(configmaps, name, "default")

    async with await KubeClient.from_kubeconfig(kubeconfig, share_connections=True) as client:
        return await _timed(client, cycle, count, concurrency)


async def _aiohttp_client(kubeconfig: str, count: int, concurrency: int) -> dict[str, Any]:
    import aiohttp

    from pytest_syncer.apiserver.kubeconfig import context_from_kubeconfig, load_kubeconfig

    context = context_from_kubeconfig(load_kubeconfig(Path(kubeconfig)))
    tls = ssl.create_default_context(cadata=(context.ca_pem or b"").decode() or None)
    configmaps = f"{context.server}/api/v1/namespaces/default/configmaps"

    async def cycle(http: aiohttp.ClientSession, name: str) -> None:
        async with http.post(configmaps, json=_body(name)) as response:
            await response.read()
            if response.status != 201:
                raise RuntimeError(f"create: {response.status} {await response.text()}")
        async with http.delete(f"{configmaps}/{name}") as response:
            await response.read()

    headers = {"Authorization": f"Bearer {context.token}"}
    connector = aiohttp.TCPConnector(ssl=tls, limit=concurrency)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as http:
        return await _timed(http, cycle, count, concurrency)


async def _worker(
    client: Any, names: Iterator[str], cycle: Callable[[Any, str], Awaitable[None]]
) -> None:
    """Takes names from the shared iterator until none are left."""
    for name in names:
        await cycle(client, name)


def _run_client(
    pythonpath: str, transport: str, kubeconfig: str, count: int, concurrency: int
) -> dict[str, Any]:
    command = [sys.executable, __file__, "--client", kubeconfig, "--transport", transport]
    command += ["--count", str(count), "--concurrency", str(concurrency)]
    environment = {**os.environ, "PYTHONPATH": pythonpath}
    out = subprocess.run(command, env=environment, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="a checkout to compare with (its PYTHONPATH)")
    parser.add_argument("--count", type=int, default=2000, help="creates and deletes per phase")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--transport", default="kubeclient", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client:
        run = _client if args.transport == "kubeclient" else _aiohttp_client
        print(json.dumps(asyncio.run(run(args.client, args.count, args.concurrency))))
        return 0
    from pytest_syncer.process.parent import ServiceProcess

    clients = {"this": (str(ROOT), "kubeclient"), "aiohttp": (str(ROOT), "aiohttp")}
    if args.baseline:
        clients["baseline"] = (args.baseline, "kubeclient")
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in clients}
    with tempfile.TemporaryDirectory(prefix="bench-kubeclient-") as temporary:
        directory = Path(temporary)
        server_args = ["--clusters", "one", "--kubeconfig-dir", str(directory / "kubeconfigs")]
        with ServiceProcess("apiserver", server_args, log_path=directory / "log") as server:
            kubeconfig = server.ready["kubeconfigs"]["one"]
            for _ in range(args.rounds):
                for label, (path, transport) in reversed(clients.items()):
                    figures = _run_client(path, transport, kubeconfig, args.count, args.concurrency)
                    print(f"bench_kubeclient: {label} {figures}", file=sys.stderr)
                    runs[label].append(figures)
    result: dict[str, Any] = {
        label: {key: min(run[key] for run in found) for key in found[0]}
        for label, found in runs.items()
    }
    result.update(count=args.count, rounds=args.rounds, load_1m=os.getloadavg()[0])
    line = json.dumps(result)
    if args.json:
        args.json.write_text(line + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
