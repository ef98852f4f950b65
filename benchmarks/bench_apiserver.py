"""Creates/s, gets/s and watch fan-out latency of the embedded API server, beside a floor.

Starts the embedded API server (HTTPS, a real ``pytest-syncer apiserver`` process) and, as the
floor, an aiohttp HTTPS server whose handlers do nothing but answer (and fan each POST out to
its open watches), the floor of this machine. Load generators in processes of their own
(``LOAD_PROCESSES`` at once, their rates summed) run the same loop against each: POST ConfigMaps
for ``--duration`` seconds, GET them for as long; then one process opens 100 watches and times
each create from its request to each watcher reading its event. Progress goes to stderr; the
last stdout line is ``{"apiserver": {creates_per_s, gets_per_s, watch_p50_ms, watch_p99_ms},
"floor": {...}}``.

    python benchmarks/bench_apiserver.py [--targets N] [--duration S] [--json FILE]

``--targets`` is how many logical clusters the server serves; the load is spread over them.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from pytest_syncer.apiserver.certs import CertificateAuthority, server_ssl_context
from pytest_syncer.apiserver.kubeconfig import context_from_kubeconfig, load_kubeconfig
from pytest_syncer.process.parent import ServiceProcess

CONNECTIONS = 16
#: aiohttp's client costs about what a server does per request: two processes keep it ahead.
LOAD_PROCESSES = 2
WATCHERS = 100
WATCH_EVENTS_PER_SECOND = 40
WATCH_NAMESPACE = "bench-watch"


def progress(message: str) -> None:
    print(f"bench_apiserver: {message}", file=sys.stderr, flush=True)


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))]


# The floor: an HTTPS aiohttp server that does nothing but answer.


class FloorServer:
    """Answers every request at once; a POST is also written to every open watch."""

    def __init__(self) -> None:
        self.revision = 0
        self.watches: set[asyncio.Queue[bytes]] = set()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.method == "POST":
            body = await request.read()
            self.revision += 1
            name = orjson.loads(body).get("metadata", {}).get("name", "")
            obj = {"metadata": {"name": name, "resourceVersion": str(self.revision)}}
            line = orjson.dumps({"type": "ADDED", "object": obj}) + b"\n"
            for queue in self.watches:
                queue.put_nowait(line)
            return web.Response(body=orjson.dumps(obj), status=201, content_type="application/json")
        if request.query.get("watch") == "1":
            return await self._watch(request)
        return web.Response(
            body=b'{"metadata":{"name":"x","resourceVersion":"1"}}', content_type="application/json"
        )

    async def _watch(self, request: web.Request) -> web.StreamResponse:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.watches.add(queue)
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        try:
            await response.prepare(request)
            while True:
                await response.write(await queue.get())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.watches.discard(queue)
        return response


async def serve_floor(directory: Path) -> None:
    authority = CertificateAuthority.generate("bench-floor-ca")
    (directory / "floor-ca.crt").write_bytes(authority.cert_pem)
    context = server_ssl_context(*authority.issue_server_certificate(["localhost"], ["127.0.0.1"]))
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", FloorServer().handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    print(json.dumps({"url": f"https://127.0.0.1:{port}"}), flush=True)
    await asyncio.Event().wait()


# The load generator: its own process, one event loop, aiohttp keep-alive connections.


async def run_load(
    bases: list[str], token: str, ca_file: str, duration: float, phase: str
) -> dict[str, Any]:
    """``phase`` ``rw-<n>``: creates then gets, names prefixed by n; ``watch``: fan-out latency."""
    tls = ssl.create_default_context(cafile=ca_file)
    connector = aiohttp.TCPConnector(ssl=tls, limit=CONNECTIONS + WATCHERS + 4)
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers, connector=connector) as http:
        if phase == "watch":
            p50, p99, seen = await _watch_latency(http, bases[0], duration)
            return {
                "watch_p50_ms": round(p50 * 1000, 2),
                "watch_p99_ms": round(p99 * 1000, 2),
                "watch_events": seen,
            }
        created = await _creates(http, bases, duration, phase)
        gets = await _gets(http, created, duration)
    return {"creates_per_s": len(created) / duration, "gets_per_s": gets / duration}


async def _creates(
    http: aiohttp.ClientSession, bases: list[str], duration: float, prefix: str
) -> list[str]:
    names = itertools.count()
    created: list[str] = []
    deadline = time.perf_counter() + duration

    async def worker(offset: int) -> None:
        while time.perf_counter() < deadline:
            index = next(names)
            base = bases[(index + offset) % len(bases)]
            url = f"{base}/api/v1/namespaces/default/configmaps"
            name = f"{prefix}-{index}"
            body = {"metadata": {"name": name}, "data": {"k": "v" * 100}}
            async with http.post(url, json=body) as response:
                await response.read()
                if response.status == 201:
                    created.append(f"{url}/{name}")

    await asyncio.gather(*(worker(offset) for offset in range(CONNECTIONS)))
    return created


async def _gets(http: aiohttp.ClientSession, urls: list[str], duration: float) -> int:
    done = 0
    deadline = time.perf_counter() + duration
    cycle = itertools.cycle(urls or ["/"])

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            async with http.get(next(cycle)) as response:
                await response.read()
                if response.status == 200:
                    done += 1

    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return done


async def _watch_latency(
    http: aiohttp.ClientSession, base: str, duration: float
) -> tuple[float, float, int]:
    async with http.post(f"{base}/api/v1/namespaces", json={"metadata": {"name": WATCH_NAMESPACE}}):
        pass
    collection = f"{base}/api/v1/namespaces/{WATCH_NAMESPACE}/configmaps"
    count = max(10, int(duration * WATCH_EVENTS_PER_SECOND))
    sent: dict[str, float] = {}
    latencies: list[float] = []
    ready = 0
    all_ready = asyncio.Event()

    async def watcher() -> None:
        nonlocal ready
        async with http.get(collection, params={"watch": "1"}, timeout=None) as response:
            ready += 1
            if ready == WATCHERS:
                all_ready.set()
            seen = 0
            async for line in response.content:
                received = time.perf_counter()
                name = orjson.loads(line)["object"]["metadata"]["name"]
                if name not in sent:
                    continue  # there before: the namespace's kube-root-ca.crt
                latencies.append(received - sent[name])
                seen += 1
                if seen == count:
                    return

    watchers = [asyncio.create_task(watcher()) for _ in range(WATCHERS)]
    await asyncio.wait_for(all_ready.wait(), 30)
    interval = 1 / WATCH_EVENTS_PER_SECOND
    for index in range(count):
        name = f"w-{index}"
        sent[name] = time.perf_counter()
        async with http.post(collection, json={"metadata": {"name": name}}) as response:
            await response.read()
        await asyncio.sleep(interval)
    _, pending = await asyncio.wait(watchers, timeout=30)
    for task in pending:
        task.cancel()
    ordered = sorted(latencies)
    return percentile(ordered, 0.5), percentile(ordered, 0.99), len(ordered)


def load_in_subprocesses(
    bases: list[str], token: str, ca_file: str, duration: float
) -> dict[str, Any]:
    """Creates and gets from ``LOAD_PROCESSES`` processes at once, then the watch phase."""

    def start(phase: str) -> subprocess.Popen[str]:
        spec = json.dumps([bases, token, ca_file, duration, phase])
        argv = [sys.executable, __file__, "--load", spec]
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def result(process: subprocess.Popen[str]) -> dict[str, Any]:
        stdout, stderr = process.communicate(timeout=300)
        if process.returncode != 0:
            raise RuntimeError(f"a load generator failed: {stderr[-2000:]}")
        loaded: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
        return loaded

    readers = [start(f"rw{index}") for index in range(LOAD_PROCESSES)]
    rates = [result(process) for process in readers]
    watched = result(start("watch"))
    return {
        "creates_per_s": round(sum(rate["creates_per_s"] for rate in rates), 1),
        "gets_per_s": round(sum(rate["gets_per_s"] for rate in rates), 1),
        **watched,
    }


def measure_apiserver(directory: Path, targets: int, duration: float) -> dict[str, Any]:
    clusters = [f"bench-{index}" for index in range(targets)]
    args = ["--clusters", ",".join(clusters), "--kubeconfig-dir", str(directory / "kubeconfigs")]
    with ServiceProcess("apiserver", args, log_path=directory / "apiserver.log") as server:
        ready = server.ready
        context = context_from_kubeconfig(load_kubeconfig(Path(ready["admin"])))
        bases = [f"{ready['url']}/clusters/{name}" for name in clusters]
        progress(f"embedded API server at {ready['url']} serving {targets} cluster(s)")
        return load_in_subprocesses(bases, context.token, ready["ca"], duration)


def measure_floor(directory: Path, duration: float) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--floor", str(directory)]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) as floor:
        try:
            assert floor.stdout is not None
            url = json.loads(floor.stdout.readline())["url"]
            progress(f"floor server at {url}")
            return load_in_subprocesses([url], "floor", str(directory / "floor-ca.crt"), duration)
        finally:
            floor.terminate()
            floor.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=1, help="logical clusters served")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per phase")
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--floor", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.load:
        bases, token, ca_file, duration, phase = json.loads(args.load)
        print(json.dumps(asyncio.run(run_load(bases, token, ca_file, duration, phase))))
        return 0
    if args.floor:
        asyncio.run(serve_floor(args.floor))
        return 0
    if args.targets < 1 or args.duration <= 0:
        parser.error("--targets must be at least 1 and --duration positive")
    with tempfile.TemporaryDirectory(prefix="bench-apiserver-") as temporary:
        directory = Path(temporary)
        progress(f"{args.duration:g} s per phase, {CONNECTIONS} connections, {WATCHERS} watchers")
        measured = measure_apiserver(directory, args.targets, args.duration)
        progress(f"apiserver: {measured}")
        floor = measure_floor(directory, args.duration)
        progress(f"floor: {floor}")
    keys = ("creates_per_s", "gets_per_s", "watch_p50_ms", "watch_p99_ms")
    result = {
        "apiserver": {key: measured[key] for key in keys},
        "floor": {key: floor[key] for key in keys},
    }
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
