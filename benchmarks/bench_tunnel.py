"""Proxied GETs per second through one tunnel, beside direct GETs to the same server.

Starts the embedded API server, the hub and a tunnel agent as real processes (HTTPS
everywhere), then drives GETs of one ConfigMap from a separate load-generator process with
many concurrent keep-alive connections: first straight at the API server ("direct"), then
through the hub's proxy and the tunnel ("tunnel"). Progress goes to stderr; the last stdout
line is ``{"tunnel": {ops_per_s, p50_ms, p99_ms, errors}, "direct": {...}, "ratio"}``.

    python benchmarks/bench_tunnel.py [--targets N] [--duration S] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import yaml

from pytest_syncer.harness.waiting import wait_until
from pytest_syncer.process.parent import ServiceProcess

CONFIGMAP_PATH = "/api/v1/namespaces/default/configmaps/bench"


def progress(message: str) -> None:
    print(f"bench_tunnel: {message}", file=sys.stderr, flush=True)


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


class KeepAliveGet(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection that sends one GET at a time.

    A lean client so the load generator costs a fraction of what the servers do (aiohttp's
    client spent as much CPU per request as the hub); it reads Content-Length and chunked
    bodies, which is all the servers under test send.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionResetError("connection lost"))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._waiter is not None and not self._waiter.done():
            status = self._complete_response()
            if status is not None:
                self._waiter.set_result(status)

    def get(self, request: bytes) -> asyncio.Future[int]:
        """Send the request; the future holds the status once the whole response is read."""
        if self.transport is None:
            raise ConnectionResetError("connection closed")
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self._waiter

    def _complete_response(self) -> int | None:
        buffer = self._buffer
        head_end = buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return None
        head = bytes(buffer[:head_end]).lower()
        status = int(head[9:12])
        body_start = head_end + 4
        marker = head.find(b"\r\ncontent-length:")
        if marker >= 0:
            line_end = head.find(b"\r\n", marker + 2)
            length = int(head[marker + 17 : line_end if line_end >= 0 else len(head)])
            if len(buffer) < body_start + length:
                return None
            del buffer[: body_start + length]
            return status
        position = body_start
        while True:
            size_end = buffer.find(b"\r\n", position)
            if size_end < 0:
                return None
            size = int(bytes(buffer[position:size_end]).split(b";")[0], 16)
            chunk_end = size_end + 2 + size + 2
            if len(buffer) < chunk_end:
                return None
            position = chunk_end
            if size == 0:
                del buffer[:position]
                return status


async def generate_load(
    urls: list[str], token: str, ca: str, duration: float, concurrency: int, warmup: float
) -> dict[str, Any]:
    """GET ``urls`` round-robin from ``concurrency`` connections; measure after ``warmup``."""
    context = ssl.create_default_context(cafile=ca)
    targets = []
    for url in urls:
        parts = urlsplit(url)
        request = (
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"
        ).encode()
        targets.append((parts.hostname or "127.0.0.1", parts.port or 443, request))
    latencies: list[float] = []
    errors = 0
    loop = asyncio.get_running_loop()
    measure_from = loop.time() + warmup
    stop_at = measure_from + duration

    async def worker(offset: int) -> None:
        nonlocal errors
        n = offset
        connections: dict[int, KeepAliveGet] = {}
        while (now := loop.time()) < stop_at:
            index = n % len(targets)
            host, port, request = targets[index]
            n += 1
            began = time.perf_counter()
            try:
                connection = connections.get(index)
                if connection is None or connection.transport is None:
                    _, connection = await loop.create_connection(
                        KeepAliveGet, host, port, ssl=context
                    )
                    connections[index] = connection
                ok = await connection.get(request) == 200
            except (OSError, ValueError):
                connections.pop(index, None)
                ok = False
            if now >= measure_from:
                if ok:
                    latencies.append(time.perf_counter() - began)
                else:
                    errors += 1
        for connection in connections.values():
            if connection.transport is not None:
                connection.transport.close()

    cpu_before = time.process_time()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    cpu = time.process_time() - cpu_before
    latencies.sort()
    return {
        "ops_per_s": round(len(latencies) / duration, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "errors": errors,
        "load_cpu_us_per_op": round(cpu / max(1, len(latencies) + errors) * 1e6),
    }


def run_load(
    urls: list[str], token: str, ca: str, duration: float, concurrency: int, warmup: float
) -> dict[str, Any]:
    """Run the load generator in a process of its own, so it is not the hub's bottleneck."""
    spec = json.dumps(
        {
            "urls": urls,
            "token": token,
            "ca": ca,
            "duration": duration,
            "concurrency": concurrency,
            "warmup": warmup,
        }
    )
    done = subprocess.run(
        [sys.executable, __file__, "--load-spec", "-"],
        input=spec,
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + warmup + 60,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(
    processes: dict[str, ServiceProcess], phase: str, load: Any, *arguments: Any
) -> dict[str, Any]:
    """Run one load phase and tell on stderr what each process spent in CPU per operation;
    on a shared machine this is steadier than operations per second."""
    before = {name: cpu_seconds(process.pid) for name, process in processes.items()}
    result: dict[str, Any] = load(*arguments)
    operations = max(1.0, result["ops_per_s"] * arguments[3])
    spent = {
        name: f"{(cpu_seconds(process.pid) - before[name]) / operations * 1e6:.0f}us/op"
        for name, process in processes.items()
    }
    spent["load generator"] = f"{result.pop('load_cpu_us_per_op')}us/op"
    progress(f"{phase}: {result}; cpu {spent} (warm-up included)")
    return result


def token_of(kubeconfig: str) -> str:
    document = yaml.safe_load(Path(kubeconfig).read_text())
    token: str = document["users"][0]["user"]["token"]
    return token


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=1, help="tunnels to spread the load over")
    parser.add_argument("--duration", type=float, default=12.0, help="seconds per measured phase")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument("--load-spec", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.load_spec:
        spec = json.loads(sys.stdin.read())
        print(json.dumps(asyncio.run(generate_load(**spec))))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-tunnel-") as scratch:
        work = Path(scratch)
        targets = [f"target-{n}" for n in range(1, args.targets + 1)]
        processes: list[ServiceProcess] = []
        try:
            api = ServiceProcess(
                "apiserver",
                ["--clusters", ",".join(["upstream", *targets]), "--kubeconfig-dir", str(work)],
                log_path=work / "apiserver.log",
            )
            processes.append(api)
            api.start()
            kubeconfigs = api.ready["kubeconfigs"]
            secret = work / "secret"
            secret.write_text(secrets.token_hex(32))
            hub = ServiceProcess(
                "hub",
                [
                    "--upstream-kubeconfig",
                    kubeconfigs["upstream"],
                    "--token-secret-file",
                    str(secret),
                    "--state-dir",
                    str(work / "hub"),
                ],
                log_path=work / "hub.log",
            )
            processes.append(hub)
            hub.start()
            direct_urls = []
            for target in targets:
                create_configmap(api.ready["url"], target, token_of(kubeconfigs[target]), api)
                direct_urls.append(f"{api.ready['url']}/clusters/{target}{CONFIGMAP_PATH}")
                token_file = work / f"{target}.token"
                token_file.write_text(mint(secret, target))
                agent = ServiceProcess("tunnel-agent", [], log_path=work / f"{target}.log")
                agent.argv = [
                    sys.executable,
                    "-m",
                    "pytest_syncer.tunnel.agent",
                    "--downstream-kubeconfig",
                    kubeconfigs[target],
                    "--sync-target",
                    target,
                    "--upstream-cluster",
                    "upstream",
                    "--tunnel-url",
                    hub.ready["url"],
                    "--tunnel-token-file",
                    str(token_file),
                    "--tunnel-ca-file",
                    hub.ready["ca"],
                ]
                processes.append(agent)
                agent.start()
            upstream_token = token_of(kubeconfigs["upstream"])
            tunnel_urls = [
                f"{hub.ready['url']}/clusters/upstream/targets/{target}/proxy{CONFIGMAP_PATH}"
                for target in targets
            ]
            for url in tunnel_urls:
                wait_for_proxy(url, upstream_token, hub.ready["ca"])
            watched = {"apiserver": api, "hub": hub, "agent": processes[-1]}
            progress(f"direct: {args.concurrency} connections for {args.duration:g}s")
            direct = measured(
                watched,
                "direct",
                run_load,
                direct_urls,
                token_of(kubeconfigs[targets[0]]) if len(targets) == 1 else admin_token(work),
                api.ready["ca"],
                args.duration,
                args.concurrency,
                args.warmup,
            )
            progress(f"tunnel: {args.concurrency} connections for {args.duration:g}s")
            tunnel = measured(
                watched,
                "tunnel",
                run_load,
                tunnel_urls,
                upstream_token,
                hub.ready["ca"],
                args.duration,
                args.concurrency,
                args.warmup,
            )
        finally:
            for process in reversed(processes):
                process.stop()
    ratio = round(tunnel["ops_per_s"] / direct["ops_per_s"], 3) if direct["ops_per_s"] else 0.0
    result = {"tunnel": tunnel, "direct": direct, "ratio": ratio}
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0


def admin_token(work: Path) -> str:
    return token_of(str(work / "admin.kubeconfig"))


def mint(secret: Path, target: str) -> str:
    minted = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest_syncer",
            "token",
            "--secret-file",
            str(secret),
            "--workspace",
            "upstream",
            "--target",
            target,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return minted.stdout.strip()


def wait_for_proxy(url: str, token: str, ca: str) -> None:
    wait_until(
        lambda: get_status(url, token, ca),
        lambda status: status == 200,
        what=f"a proxied GET through {url}",
        timeout=30,
    )


def get_status(url: str, token: str, ca: str) -> int:
    async def get() -> int:
        connector = aiohttp.TCPConnector(ssl=ssl.create_default_context(cafile=ca))
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.get(url, headers={"Authorization": f"Bearer {token}"}) as response,
        ):
            return response.status

    return asyncio.run(get())


def create_configmap(base_url: str, cluster: str, token: str, api: ServiceProcess) -> None:
    async def create() -> None:
        connector = aiohttp.TCPConnector(ssl=ssl.create_default_context(cafile=api.ready["ca"]))
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "bench", "namespace": "default"},
            "data": {"key": "value" * 40},
        }
        url = f"{base_url}/clusters/{cluster}/api/v1/namespaces/default/configmaps"
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.post(url, json=body, headers={"Authorization": f"Bearer {token}"}) as answer,
        ):
            if answer.status != 201:
                raise RuntimeError(f"creating the bench ConfigMap: {answer.status}")

    asyncio.run(create())


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main(sys.argv[1:]))
