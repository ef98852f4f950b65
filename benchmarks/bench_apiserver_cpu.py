"""CPU time the embedded API server spends per write, beside what it spends per read.

Wall-clock rates follow the machine's load; the server process's own CPU seconds
(``/proc/<pid>/stat`` utime + stime) per operation barely do, so this is the figure to compare
code by on a shared machine. Starts a real ``pytest-syncer apiserver`` process with the SQLite
store (``--data-dir``, as ``pytest-syncer up`` runs it) serving ``--targets`` logical clusters,
opens one ConfigMap watch per cluster (a syncer's), then ``--writers`` clients each repeat:
create a labelled ConfigMap, merge-patch it as a second field manager, merge-patch it as the
first, delete it (four writes, two managedFields entries), for ``--duration`` seconds; then
GETs of one object for as long. Progress goes to stderr; the last stdout line is
``{"cpu_ms_per_write", "cpu_ms_per_get", ...}``: what a read costs is the figure beside.

    python benchmarks/bench_apiserver_cpu.py [--targets N] [--writers W] [--duration S] [--json F]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import ssl
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from pytest_syncer.apiserver.kubeconfig import context_from_kubeconfig, load_kubeconfig
from pytest_syncer.process.parent import ServiceProcess

MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
WATCH_TIMEOUT = 30.0
"""Seconds the watches may take to open before the writes begin."""


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


async def _watch(
    http: aiohttp.ClientSession, base: str, seen: list[int], open_: asyncio.Event
) -> None:
    url = f"{base}/api/v1/namespaces/default/configmaps"
    async with http.get(url, params={"watch": "1"}, timeout=None) as response:
        open_.set()
        async for _ in response.content:
            seen[0] += 1


async def _cycle(http: aiohttp.ClientSession, base: str, index: int) -> int:
    """Create, patch twice, delete one ConfigMap; the count of answers that were not OK."""
    url = f"{base}/api/v1/namespaces/default/configmaps"
    name = f"cm-{index}"
    body = {"metadata": {"name": name, "labels": {"app": "bench", "index": str(index)}}}
    body["data"] = {"k": "v" * 200}
    failures = 0
    async with http.post(url, json=body) as response:
        await response.read()
        failures += response.status != 201
    patches = [
        ({"fieldManager": "status-writer"}, {"data": {"status": "ok"}}),
        ({}, {"metadata": {"annotations": {"seen": "1"}}, "data": {"k2": "v"}}),
    ]
    for params, patch in patches:
        data = json.dumps(patch)
        async with http.patch(f"{url}/{name}", params=params, data=data, headers=MERGE_PATCH) as r:
            await r.read()
            failures += r.status != 200
    async with http.delete(f"{url}/{name}") as response:
        await response.read()
        failures += response.status != 200
    return failures


async def run_load(
    pid: int, bases: list[str], token: str, ca_file: str, writers: int, duration: float
) -> dict[str, Any]:
    tls = ssl.create_default_context(cafile=ca_file)
    connector = aiohttp.TCPConnector(ssl=tls, limit=len(bases) + writers + 8)
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers, connector=connector) as http:
        seen = [0]
        opened = [asyncio.Event() for _ in bases]
        watches = [
            asyncio.create_task(_watch(http, base, seen, open_))
            for base, open_ in zip(bases, opened, strict=True)
        ]
        # Writes are measured with every watch streaming, as on a server clients follow.
        try:
            await asyncio.wait_for(asyncio.gather(*(o.wait() for o in opened)), WATCH_TIMEOUT)
        except TimeoutError:
            waiting = sum(not o.is_set() for o in opened)
            message = f"{waiting} of {len(bases)} watches not open after {WATCH_TIMEOUT:g}s"
            raise RuntimeError(message) from None
        indexes = itertools.count()
        failures = 0
        deadline = time.perf_counter() + duration

        async def writer() -> None:
            nonlocal failures
            while time.perf_counter() < deadline:
                index = next(indexes)
                failures += await _cycle(http, bases[index % len(bases)], index)

        before = cpu_seconds(pid)
        await asyncio.gather(*(writer() for _ in range(writers)))
        after = cpu_seconds(pid)
        url = f"{bases[0]}/api/v1/namespaces/default/configmaps/kube-root-ca.crt"
        gets = itertools.count()
        deadline = time.perf_counter() + duration

        async def reader() -> None:
            while time.perf_counter() < deadline:
                async with http.get(url) as response:
                    await response.read()
                next(gets)

        await asyncio.gather(*(reader() for _ in range(writers)))
        read = cpu_seconds(pid)
        for task in watches:
            task.cancel()
    writes = 4 * next(indexes)
    user, system = after[0] - before[0], after[1] - before[1]
    get_count = next(gets)
    return {
        "cpu_ms_per_write": round(1000 * (user + system) / writes, 3),
        "cpu_ms_per_get": round(1000 * (sum(read) - sum(after)) / get_count, 3),
        "writes": writes,
        "gets": get_count,
        "failures": failures,
        "user_s": round(user, 2),
        "system_s": round(system, 2),
        "watch_events": seen[0],
        "load_1m": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=50, help="logical clusters, one watch each")
    parser.add_argument("--writers", type=int, default=8, help="concurrent clients")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of writes, of GETs")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    if args.targets < 1 or args.writers < 1 or args.duration <= 0:
        parser.error("--targets and --writers must be at least 1, --duration positive")
    with tempfile.TemporaryDirectory(prefix="bench-apiserver-cpu-") as temporary:
        directory = Path(temporary)
        clusters = [f"target-{index}" for index in range(args.targets)]
        server_args = ["--clusters", ",".join(clusters), "--data-dir", str(directory / "data")]
        server_args += ["--kubeconfig-dir", str(directory / "kubeconfigs")]
        log = directory / "apiserver.log"
        with ServiceProcess("apiserver", server_args, log_path=log) as server:
            ready = server.ready
            context = context_from_kubeconfig(load_kubeconfig(Path(ready["admin"])))
            bases = [f"{ready['url']}/clusters/{name}" for name in clusters]
            print(f"bench_apiserver_cpu: {ready['url']}, {args.targets} clusters", file=sys.stderr)
            load = run_load(
                server.pid, bases, context.token, ready["ca"], args.writers, args.duration
            )
            result = asyncio.run(load)
    line = json.dumps(result)
    if args.json:
        args.json.write_text(line + "\n")
    print(line)
    return 0 if result["failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
