"""CPU time the embedded API server spends per watch event it delivers.

Starts a real ``pytest-syncer apiserver`` process (SQLite store, TLS, as ``pytest-syncer up``
runs it) with one logical cluster, then creates ``--writes`` ConfigMaps one after another (as a
syncer writes copies: one event at a time) twice: first with no watch open, then with
``--watchers`` ConfigMap watches open. What the second run costs more, over the events the
watches received, is the server's CPU per event delivered (``/proc/<pid>/stat`` utime + stime:
barely moved by the machine's load, unlike wall-clock rates). The last stdout line is
``{"cpu_us_per_event", ...}``; the server's CPU per write without watches is the figure beside.

    python benchmarks/bench_watch_cpu.py [--watchers K] [--writes N] [--json F]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import ssl
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.bench_apiserver_cpu import cpu_seconds
from pytest_syncer.apiserver.kubeconfig import context_from_kubeconfig, load_kubeconfig
from pytest_syncer.process.parent import ServiceProcess

WATCH_TIMEOUT = 30.0
"""Seconds the watches may take to open, and to receive the last event."""
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


class Received:
    """Event lines the watches received; ``done`` is set once they reach ``wanted``."""

    def __init__(self) -> None:
        self.lines = 0
        self.wanted: int | None = None
        self.done = asyncio.Event()

    def add(self) -> None:
        self.lines += 1
        if self.wanted is not None and self.lines >= self.wanted:
            self.done.set()


async def _watch(
    http: aiohttp.ClientSession,
    base: str,
    revision: str,
    received: Received,
    opened: asyncio.Event,
) -> None:
    """A reflector's watch: from the revision of its list, on the labelled ConfigMaps."""
    params = {"watch": "1", "resourceVersion": revision, "labelSelector": "bench"}
    async with http.get(f"{base}{CONFIGMAPS}", params=params, timeout=None) as response:
        opened.set()
        async for _ in response.content:
            received.add()


async def _writes(http: aiohttp.ClientSession, base: str, prefix: str, count: int) -> None:
    for index in range(count):
        body = {"metadata": {"name": f"{prefix}-{index}", "labels": {"bench": "1"}}}
        body["data"] = {"k": "v" * 200}
        async with http.post(f"{base}{CONFIGMAPS}", json=body) as response:
            await response.read()
            if response.status != 201:
                raise RuntimeError(f"create: {response.status} {await response.text()}")


async def run_load(
    pid: int, base: str, token: str, ca_file: str, watchers: int, writes: int
) -> dict[str, Any]:
    tls = ssl.create_default_context(cafile=ca_file)
    connector = aiohttp.TCPConnector(ssl=tls, limit=watchers + 4)
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers, connector=connector) as http:
        await _writes(http, base, "warm", 50)
        before = cpu_seconds(pid)
        await _writes(http, base, "alone", writes)
        alone = cpu_seconds(pid)
        async with http.get(f"{base}{CONFIGMAPS}", params={"limit": "1"}) as response:
            revision = (await response.json())["metadata"]["resourceVersion"]
        received = Received()
        opened = [asyncio.Event() for _ in range(watchers)]
        tasks = [
            asyncio.create_task(_watch(http, base, revision, received, event)) for event in opened
        ]
        await asyncio.wait_for(asyncio.gather(*(o.wait() for o in opened)), WATCH_TIMEOUT)
        print("bench_watch_cpu: watched writes start", file=sys.stderr, flush=True)
        start = cpu_seconds(pid)
        already = received.lines
        received.wanted = already + watchers * writes
        await _writes(http, base, "watched", writes)
        # A shortfall shows in the result (events < events_expected) and its exit status.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(received.done.wait(), WATCH_TIMEOUT)
        end = cpu_seconds(pid)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    events = received.lines - already
    alone_cpu = sum(alone) - sum(before)
    watched_cpu = sum(end) - sum(start)
    return {
        "cpu_us_per_event": round(1e6 * (watched_cpu - alone_cpu) / max(events, 1), 2),
        "cpu_ms_per_write_unwatched": round(1000 * alone_cpu / writes, 3),
        "events": events,
        "events_expected": watchers * writes,
        "watchers": watchers,
        "writes": writes,
        "cpu_s_unwatched": round(alone_cpu, 2),
        "cpu_s_watched": round(watched_cpu, 2),
        "load_1m": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watchers", type=int, default=50, help="ConfigMap watches open")
    parser.add_argument("--writes", type=int, default=400, help="ConfigMaps created per run")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    if args.watchers < 1 or args.writes < 1:
        parser.error("--watchers and --writes must be at least 1")
    with tempfile.TemporaryDirectory(prefix="bench-watch-cpu-") as temporary:
        directory = Path(temporary)
        server_args = ["--clusters", "target-0", "--data-dir", str(directory / "data")]
        server_args += ["--kubeconfig-dir", str(directory / "kubeconfigs")]
        log = directory / "apiserver.log"
        with ServiceProcess("apiserver", server_args, log_path=log) as server:
            ready = server.ready
            context = context_from_kubeconfig(load_kubeconfig(Path(ready["admin"])))
            base = f"{ready['url']}/clusters/target-0"
            print(f"bench_watch_cpu: {ready['url']}, pid {server.pid}", file=sys.stderr)
            token, ca_file = context.token, ready["ca"]
            load = run_load(server.pid, base, token, ca_file, args.watchers, args.writes)
            result = asyncio.run(load)
    line = json.dumps(result)
    if args.json:
        args.json.write_text(line + "\n")
    print(line)
    return 0 if result["events"] == result["events_expected"] else 1


if __name__ == "__main__":
    sys.exit(main())
