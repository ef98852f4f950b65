"""What the locustfiles in `loadtests/` share: one environment per locust run, and how users
reach it.

The environment runs in subprocesses (`pytest-syncer up`), never in locust's process: the
syncer, hub and API server are asyncio, locust is gevent. The `init` listener starts it, or
reads an existing one from `--syncer-env DIR`, and the `quitting` listener stops what it
started. Distributed runs: only the master (or a lone local runner) starts the environment and
puts its directory into its parsed options; locust sends custom options to the workers with
every spawn message, so a worker on the same machine reads the same `environment.json`.

Import this module from a locustfile after `locust` (gevent patches the standard library
first); it imports nothing asyncio.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import logging
import os
import shutil
import socket
import ssl
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gevent
import orjson
import requests
import yaml
from gevent.event import Event
from locust import events
from locust.env import Environment
from locust.runners import WORKER_REPORT_INTERVAL, MasterRunner, WorkerRunner

from pytest_syncer.bench.cycle_cpu import PREFIX, CpuSnapshot, cycle_cpu, measurable, read_snapshot
from pytest_syncer.bench.reference_work import ReferenceFigure, ReferenceSamples
from pytest_syncer.bench.watch_sources import WatchSource, watch_sources
from pytest_syncer.harness.environment_file import EnvironmentFacts, EnvironmentFileError
from pytest_syncer.http1.chunked import ChunkedDecoder
from pytest_syncer.process.parent import ServiceProcess, ServiceStartError

DEFAULT_TARGETS = 5
STARTUP_TIMEOUT = 600.0
STOP_GRACE = 120.0
"""How long `up` may take to stop its processes before the rest are killed."""
LOADTEST_LABEL = "loadtest.pytest-syncer.io/user"
"""Every object a load test writes carries it, so its watches see only load-test objects."""
RUNNER_LABEL = "loadtest.pytest-syncer.io/runner"
RUNNER = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
"""This locust process, on the objects its users write: each process cleans up only its own,
so a worker that stops first leaves the others' alone."""
NAMESPACE = "loadtest"
CPU_REFRESH = 2.0
"""Seconds between readings of the environment's CPU during a test: a process that goes away
counts what was read last."""

logger = logging.getLogger(__name__)


class LoadTestSetupError(RuntimeError):
    """The environment could not be started or read; locust stops with this message."""


@events.init_command_line_parser.add_listener
def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--syncer-targets",
        type=int,
        default=DEFAULT_TARGETS,
        help=f"sync targets of the environment this run starts (default {DEFAULT_TARGETS})",
    )
    parser.add_argument(
        "--syncer-env",
        default="",
        help="use the environment `pytest-syncer up --dir DIR` runs instead of starting one",
    )


class _StartedEnvironment:
    """`pytest-syncer up` in a temporary directory, as a real process of its own."""

    def __init__(self, targets: int) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="pytest-syncer-locust-"))
        self._up = ServiceProcess(
            "up",
            [f"--targets={targets}", f"--dir={self.directory}"],
            log_path=self.directory / "up.log",
            startup_timeout=STARTUP_TIMEOUT,
        )

    def start(self) -> None:
        """Start it and wait for its ready line; on any failure, Ctrl-C included, stop it."""
        try:
            self._up.start()
        except ServiceStartError as error:
            raise LoadTestSetupError(f"{error}\n(its files are kept in {self.directory})") from None
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """`up` stops its processes on SIGTERM; then its directory goes."""
        code = self._up.stop(grace=STOP_GRACE)
        if code == 0:
            shutil.rmtree(self.directory, ignore_errors=True)
            return
        logger.warning(
            "pytest-syncer up exited with %s; its files stay in %s, and "
            "`pytest-syncer down %s` stops anything it left",
            code,
            self.directory,
            self.directory,
        )


_started: list[_StartedEnvironment] = []
_copies: dict[str, DownstreamCopies] = {}


@events.init.add_listener
def _start_environment(environment: Environment, **_: Any) -> None:
    """A lone runner or a master starts the environment (or reads `--syncer-env`) once per
    locust process; a worker gets its directory with the master's spawn messages."""
    options = environment.parsed_options
    if options is None or isinstance(environment.runner, WorkerRunner):
        return
    try:
        if not options.syncer_env:
            started = _StartedEnvironment(options.syncer_targets)
            logger.info(
                "starting %d sync targets with `pytest-syncer up` (log: %s)",
                options.syncer_targets,
                started.directory / "up.log",
            )
            started.start()
            _started.append(started)
            options.syncer_env = str(started.directory)
        facts = environment_facts(environment)
    except (LoadTestSetupError, EnvironmentFileError) as error:
        logger.error("pytest-syncer: %s", error)
        sys.exit(1)
    logger.info(
        "sync environment: %d targets, hub %s, in %s",
        len(facts.targets),
        facts.hub_url,
        options.syncer_env,
    )
    if not environment.host:
        environment.host = facts.hub_url


@events.quitting.add_listener
def _stop_environment(environment: Environment, **_: Any) -> None:
    """Stop the users first (no request meets a stopped server), then what this run started."""
    if environment.runner is not None:
        environment.runner.stop()
    _report_cycle_cpu(environment)
    for copies in _copies.values():
        copies.close()
    while _started:
        started = _started.pop()
        logger.info("stopping the sync environment in %s", started.directory)
        started.stop()


class _CpuMeter:
    """The environment's CPU from a test's start to its stop, read in this (gevent) process."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self.reference = ReferenceSamples()
        self.reference.take()
        self.start = self._latest = read_snapshot(pids)
        self._greenlet = gevent.spawn(self._refresh)

    def _refresh(self) -> None:
        while True:
            gevent.sleep(CPU_REFRESH)
            self._latest = read_snapshot(self._pids, self._latest)
            self.reference.take()

    def stop(self) -> CpuSnapshot:
        self._greenlet.kill(block=False)
        return read_snapshot(self._pids, self._latest)


_meter: list[_CpuMeter | str] = []
"""The running test's meter, or why its CPU is not measured."""
_measured: list[tuple[CpuSnapshot, CpuSnapshot, ReferenceFigure | None]] = []
"""A test's start and stop snapshots and the machine's speed over it, whose line waits for
the workers' last statistics."""


@events.test_start.add_listener
def _start_cpu_meter(environment: Environment, **_: Any) -> None:
    """A lone runner or a master reads the environment's processes (a worker would only read
    them again); the pids are `environment.json`'s `processes`."""
    if isinstance(environment.runner, WorkerRunner):
        return
    while _meter:
        earlier = _meter.pop()
        if isinstance(earlier, _CpuMeter):
            earlier.stop()
    if not measurable():
        _meter.append("no /proc on this system")
        return
    try:
        processes = environment_facts(environment).processes
    except (LoadTestSetupError, EnvironmentFileError) as error:
        _meter.append(str(error))
        return
    pids = {name: info["pid"] for name, info in processes.items()}
    _meter.append(_CpuMeter(pids) if pids else "environment.json lists no processes")


@events.test_stop.add_listener
def _stop_cpu_meter(environment: Environment, **_: Any) -> None:
    """Read the stop snapshot as the users stop. A lone runner logs the line at once; a
    master has not heard its workers' last statistics yet (they report every
    WORKER_REPORT_INTERVAL, and once more when told to quit), so it logs the line after
    one more interval, or at `quitting` if that comes first."""
    if isinstance(environment.runner, WorkerRunner) or not _meter:
        return
    meter = _meter.pop()
    if isinstance(meter, str):
        logger.info("%s: not measured (%s)", PREFIX, meter)
        return
    _measured.append((meter.start, meter.stop(), meter.reference.figure()))
    if isinstance(environment.runner, MasterRunner):
        gevent.spawn_later(WORKER_REPORT_INTERVAL + 1, _report_cycle_cpu, environment)
    else:
        _report_cycle_cpu(environment)


def placed_cycles(environment: Environment) -> int:
    """The test's completed create+delete cycles: `sync create N targets` successes."""
    return sum(
        entry.num_requests - entry.num_failures
        for (name, method), entry in environment.stats.entries.items()
        if method == "SYNC" and name.startswith("sync create ")
    )


def _report_cycle_cpu(environment: Environment) -> None:
    while _measured:
        before, after, reference = _measured.pop()
        figures = cycle_cpu(
            before, after, placed_cycles(environment), os.cpu_count() or 1, reference
        )
        logger.info("%s", figures.line())


def environment_directory(environment: Environment) -> str:
    """The environment's directory; on a worker, it came with the master's spawn message."""
    options = environment.parsed_options
    directory = getattr(options, "syncer_env", "") if options is not None else ""
    if not directory:
        raise LoadTestSetupError("no --syncer-env: the master has not named its environment")
    return str(directory)


def environment_facts(environment: Environment) -> EnvironmentFacts:
    return _read_facts(environment_directory(environment))


@cache
def _read_facts(directory: str) -> EnvironmentFacts:
    return EnvironmentFacts.read(Path(directory))


@dataclass(frozen=True)
class KubeAccess:
    """A cluster's server URL, bearer token and CA file, read from its kubeconfig."""

    server: str
    token: str
    ca_file: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def session(self) -> requests.Session:
        session = requests.Session()
        session.headers.update(self.headers)
        session.verify = self.ca_file
        # Otherwise REQUESTS_CA_BUNDLE from the environment overrides `verify`.
        session.trust_env = False
        return session


@cache
def kube_access(kubeconfig: str, context_name: str | None = None) -> KubeAccess:
    """Read a kubeconfig's context `context_name`, else its current one (server, token,
    inline or file CA)."""
    document = yaml.safe_load(Path(kubeconfig).read_text())
    wanted = context_name or document.get("current-context")
    context = next(
        (c["context"] for c in document["contexts"] if c["name"] == wanted),
        None if context_name else document["contexts"][0]["context"],
    )
    if context is None:
        raise LoadTestSetupError(f"{kubeconfig} has no context {context_name!r}")
    cluster = next(c["cluster"] for c in document["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in document["users"] if u["name"] == context["user"])
    ca_file = cluster.get("certificate-authority")
    if ca_file is None:
        ca_file = _ca_file(base64.b64decode(cluster["certificate-authority-data"]))
    return KubeAccess(cluster["server"].rstrip("/"), user["token"], ca_file)


@cache
def _ca_directory() -> tempfile.TemporaryDirectory[str]:
    """Where inline CAs become files for `requests`; removed when the process exits."""
    return tempfile.TemporaryDirectory(prefix="pytest-syncer-locust-ca-")


def _ca_file(pem: bytes) -> str:
    """One file per distinct CA (the embedded clusters share one)."""
    path = Path(_ca_directory().name) / f"{hashlib.sha256(pem).hexdigest()[:16]}.crt"
    if not path.exists():
        path.write_bytes(pem)
    return str(path)


def report(
    environment: Environment,
    request_type: str,
    name: str,
    started: float,
    *,
    length: int = 0,
    exception: BaseException | None = None,
    finished: float | None = None,
) -> None:
    """One locust request event for a measurement locust's clients did not make, timed from
    `started` to `finished` (default: now), both `time.perf_counter()` readings."""
    ended = time.perf_counter() if finished is None else finished
    environment.events.request.fire(
        request_type=request_type,
        name=name,
        response_time=(ended - started) * 1000,
        response_length=length,
        exception=exception,
        context={},
    )


def ensure_namespace(access: KubeAccess, name: str = NAMESPACE) -> None:
    """Create the upstream namespace the load tests write into (a 409 means it exists)."""
    response = access.session().post(
        f"{access.server}/api/v1/namespaces",
        json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        timeout=30,
    )
    if response.status_code not in (201, 409):
        raise LoadTestSetupError(
            f"creating namespace {name}: {response.status_code} {response.text}"
        )


def watch_events(
    session: requests.Session, url: str, stop: Event, connected: Event | None = None
) -> Iterator[dict[str, Any]]:
    """Events of one watch request (a streaming GET read line by line in this greenlet);
    `connected` is set once the server has answered, so writes after it are seen."""
    with contextlib.closing(session.get(url, stream=True, timeout=(10, 60))) as response:
        response.raise_for_status()
        if connected is not None:
            connected.set()
        for line in response.iter_lines():
            if stop.is_set():
                return
            if line:
                yield json.loads(line)


class WatchStreamError(OSError):
    """A watch answered other than 200 with a chunked body, or its stream broke off."""


def _receive(sock: socket.socket) -> bytes:
    data = sock.recv(1 << 16)
    if not data:
        raise WatchStreamError("the watch's connection closed")
    return data


def watch_lines(access: KubeAccess, url: str, stop: Event, connected: Event) -> Iterator[bytes]:
    """The event lines of one watch, undecoded, over a TLS socket of its own: per event one
    receive and a split at newlines, where `requests`' `iter_lines` ran urllib3's chunk reader,
    http.client's buffered reads and two generators (with 50 streams, about half of
    locust's busy samples).
    `connected` is set once the server has answered, so writes after it are seen."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    context = ssl.create_default_context(cafile=access.ca_file)
    with (
        socket.create_connection((host, port), timeout=60) as plain,
        context.wrap_socket(plain, server_hostname=host) as sock,
    ):
        request = (
            f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Authorization: Bearer {access.token}\r\nAccept: application/json\r\n\r\n"
        )
        sock.sendall(request.encode())
        received = bytearray()
        while (end := received.find(b"\r\n\r\n")) < 0:
            received += _receive(sock)
        status, _, rest = received[:end].decode("latin-1").partition("\r\n")
        if status.split(" ", 2)[1:2] != ["200"] or "transfer-encoding: chunked" not in rest.lower():
            raise WatchStreamError(f"watch {url}: {status}")
        connected.set()
        decoder = ChunkedDecoder()
        data = bytes(received[end + 4 :])
        partial = b""
        while True:
            for piece in decoder.feed(data):
                if stop.is_set():
                    return
                lines = (partial + piece).split(b"\n") if partial else piece.split(b"\n")
                partial = lines.pop()
                yield from lines
            if decoder.finished:
                return
            data = _receive(sock)


class _Arrivals:
    """Which targets have shown one event kind for one object name, and when all of them had."""

    def __init__(self, wanted: set[str]) -> None:
        self.wanted = wanted
        self.seen: set[str] = set()
        self.complete = Event()

    def arrive(self, target: str) -> None:
        self.seen.add(target)
        if self.wanted <= self.seen:
            self.complete.set()


class DownstreamCopies:
    """The load test's ConfigMaps on every target (all namespaces), shared by every user of
    this locust process: a user registers what it waits for, then writes upstream.

    One watch per API server process where the environment names its wildcard (the embedded
    provider), else one per target (`watch_sources`): with one per target, each target's
    process served a watch per target to locust and locust read as many streams, CPU taken from
    the environment under test (one per process halved locust's CPU per cycle at 50 targets,
    docs/benchmarks.md)."""

    def __init__(self, facts: EnvironmentFacts) -> None:
        self._waiting: dict[tuple[str, str], _Arrivals] = {}
        self._stop = Event()
        self.sources = watch_sources(facts)
        self._connected = [Event() for _ in self.sources]
        self._greenlets = [
            gevent.spawn(self._watch, source, kube_access(source.kubeconfig, source.context), ready)
            for source, ready in zip(self.sources, self._connected, strict=True)
        ]

    def wait_connected(self, timeout: float) -> None:
        for source, connected in zip(self.sources, self._connected, strict=True):
            if not connected.wait(timeout):
                raise LoadTestSetupError(f"no watch on {source.name} within {timeout:g}s")

    def expect(self, kind: str, name: str, targets: set[str]) -> _Arrivals:
        """Register before writing: `kind` is ADDED or DELETED."""
        arrivals = _Arrivals(targets)
        self._waiting[(kind, name)] = arrivals
        return arrivals

    def forget(self, kind: str, name: str) -> None:
        self._waiting.pop((kind, name), None)

    def _watch(self, source: WatchSource, access: KubeAccess, connected: Event) -> None:
        """Every line is one event; while no user waits, none concerns anyone."""
        url = f"{access.server}/api/v1/configmaps?watch=1&labelSelector={LOADTEST_LABEL}"
        while not self._stop.is_set():
            try:
                for line in watch_lines(access, url, self._stop, connected):
                    if not line or not self._waiting:
                        continue
                    event = orjson.loads(line)
                    name = event["object"]["metadata"]["name"]
                    arrivals = self._waiting.get((event["type"], name))
                    if arrivals is not None and (target := source.target_of(event)) is not None:
                        arrivals.arrive(target)
            except (OSError, ValueError, KeyError):
                gevent.sleep(0.2)

    def close(self) -> None:
        self._stop.set()
        gevent.killall(self._greenlets, block=False)


def downstream_copies(environment: Environment) -> DownstreamCopies:
    """The one `DownstreamCopies` of this process for the run's environment."""
    directory = environment_directory(environment)
    if directory not in _copies:
        _copies[directory] = DownstreamCopies(_read_facts(directory))
    return _copies[directory]


def loadtest_labels(user: str) -> dict[str, str]:
    """The labels of an object a `user` kind writes from this process."""
    return {LOADTEST_LABEL: user, RUNNER_LABEL: RUNNER}


def delete_labelled(access: KubeAccess, collection: str, user: str) -> None:
    """Delete what this process's users of one kind left in one collection."""
    selector = f"{LOADTEST_LABEL}%3D{user},{RUNNER_LABEL}%3D{RUNNER}"
    access.session().delete(
        f"{access.server}{collection}?labelSelector={selector}", timeout=30
    ).raise_for_status()


def clean_up_after_test(
    environment: Environment, clean: Callable[[EnvironmentFacts], None]
) -> None:
    """At the end of each test (a run, or a start-stop in the web UI), once its users have
    stopped, each process that ran users (a lone runner or a worker, not the master) calls
    `clean`; a user killed mid-task leaves its objects for it."""
    if isinstance(environment.runner, MasterRunner):
        return
    try:
        clean(environment_facts(environment))
    except (requests.RequestException, LoadTestSetupError, EnvironmentFileError) as error:
        logger.warning("pytest-syncer: cleaning up after the test: %s", error)
