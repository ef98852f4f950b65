"""The embedded API server as a Python object: the async core and a blocking twin for fixtures.

With a data dir the store, the CA, the tokens, the cluster list, each cluster's admission
plugins and the port are kept there, so a restart on the same port serves the same URLs with
the same credentials and rules, and every client built before the restart keeps working.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ipaddress
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from pytest_syncer.apiserver.api import bootstrap
from pytest_syncer.apiserver.api.admission import ADMISSION_FILE, ClusterAdmission, plugin_names
from pytest_syncer.apiserver.api.object_api import ObjectAPI
from pytest_syncer.apiserver.api.resources import ResourcePath, ResourceRegistry
from pytest_syncer.apiserver.api.watch import WatchFanout
from pytest_syncer.apiserver.auth import TOKENS_FILE, BearerTokens
from pytest_syncer.apiserver.certs import CertificateAuthority, server_ssl_context
from pytest_syncer.apiserver.controllers.manager import Controllers
from pytest_syncer.apiserver.http.app import APIServerApp
from pytest_syncer.apiserver.http.paths import is_valid_cluster_name
from pytest_syncer.apiserver.kubeconfig import (
    KubeconfigContext,
    write_kubeconfig,
    write_multi_context_kubeconfig,
)
from pytest_syncer.apiserver.store import ObjectKey, Store
from pytest_syncer.apiserver.store.memory import MemoryStore
from pytest_syncer.apiserver.store.sqlite import DATABASE_FILE, SQLiteStore
from pytest_syncer.process.lifetime import Lifetime, SyncLifetime
from pytest_syncer.process.listener import ListenerSite

logger = logging.getLogger(__name__)

#: Watch events are kept this long: long enough that a watch outlives a paused test.
DEFAULT_WATCH_RETENTION_SECONDS = 900.0
DEFAULT_BOOKMARK_INTERVAL_SECONDS = 10.0
DEFAULT_HEADER_TIMEOUT_SECONDS = 30.0
"""A connection that has not sent a whole request head this long after it opened (or after
its last response) is closed, so slowloris and half-open clients cannot pile up."""
MAX_HEADER_BYTES = 1 << 20
"""The longest request line or header taken: kube-apiserver's http.Server allows 1 MiB of head
(`MaxHeaderBytes: 1 << 20` in k8s.io/apiserver/pkg/server/secure_serving.go), aiohttp 8190
bytes a line by default; a pooled syncer's SyncStatus selector names ~100 target keys (~4 KB)."""
BOOTSTRAP_NAMESPACES = ("default", "kube-system", "kube-public")
ADMIN_KUBECONFIG = "admin.kubeconfig"
CA_FILE = "ca.crt"
PORT_FILE = "port"
WILDCARD_CONTEXT = "*"


class EmbeddedAPIServer(Lifetime, start="start", stop="stop"):
    """Serve ``clusters`` (more can be added) and write a kubeconfig per cluster plus an admin one.

    Use ``async with EmbeddedAPIServer(...) as server:``; ``server.url`` is the base URL and each
    cluster lives under ``{url}/clusters/<name>``. ``admission_plugins`` maps a served cluster to
    the admission plugins it runs (``admission.PLUGINS``; an empty list turns off what a data dir
    remembers for it).
    """

    def __init__(
        self,
        clusters: Sequence[str],
        kubeconfig_dir: Path,
        *,
        data_dir: Path | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        insecure_http: bool = False,
        watch_retention: float = DEFAULT_WATCH_RETENTION_SECONDS,
        bookmark_interval: float = DEFAULT_BOOKMARK_INTERVAL_SECONDS,
        header_timeout: float = DEFAULT_HEADER_TIMEOUT_SECONDS,
        admission_plugins: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        for name in clusters:
            _check_cluster_name(name)
        self._requested_clusters = list(clusters)
        self._requested_admission = {
            cluster: plugin_names(names) for cluster, names in (admission_plugins or {}).items()
        }
        self.kubeconfig_dir = Path(kubeconfig_dir)
        self.data_dir = None if data_dir is None else Path(data_dir)
        self.host = host
        self.insecure_http = insecure_http
        self.watch_retention = watch_retention
        self.bookmark_interval = bookmark_interval
        self.header_timeout = header_timeout
        self._port = port
        self.kubeconfigs: dict[str, Path] = {}
        self.admin_kubeconfig = self.kubeconfig_dir / ADMIN_KUBECONFIG
        self.ca_file: Path | None = None
        self._url: str | None = None
        self._ca_pem: bytes | None = None
        self._store: Store | None = None
        self._app: APIServerApp | None = None
        self._tokens: BearerTokens | None = None
        self._runner: web.AppRunner | None = None
        self._compactor: asyncio.Task[None] | None = None
        self._serving = False

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the API server is not started")
        return self._url

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def clusters(self) -> list[str]:
        return list(self.kubeconfigs)

    def cluster_url(self, cluster: str) -> str:
        return f"{self.url}/clusters/{cluster}"

    @property
    def admission_plugins(self) -> dict[str, list[str]]:
        """The clusters that run admission plugins, with their plugins."""
        return {} if self._app is None else self._app.api.admission.enabled()

    async def start(self) -> None:
        self.kubeconfig_dir.mkdir(parents=True, exist_ok=True)
        store, tokens, authority_ca = self._open_state()
        self._store, self._tokens = store, tokens
        api = ObjectAPI(store, ResourceRegistry.builtin())
        fanout = WatchFanout()
        store.add_listener(fanout.publish)
        controllers = Controllers(api)
        api.crds.removed_listeners.append(fanout.end_removed_types)
        app = APIServerApp(api, fanout, tokens, bookmark_interval=self.bookmark_interval)
        self._app = app
        try:
            self._configure_admission(app.api.admission, tokens.clusters)
        except BaseException:
            await self.stop()
            raise
        ssl_context = None
        if authority_ca is not None:
            self._ca_pem = authority_ca.cert_pem
            app.api.root_ca_pem = authority_ca.cert_pem.decode()
            self.ca_file = self.kubeconfig_dir / CA_FILE
            self.ca_file.write_bytes(authority_ca.cert_pem)
            ssl_context = server_ssl_context(*self._server_certificate(authority_ca))
        # aiohttp's keep-alive timer runs from the moment a connection opens until a request
        # head is complete, and between requests: it is the header timeout.
        application = app.application()
        application.on_startup.append(controllers.start)
        application.on_cleanup.append(controllers.stop)
        runner = web.AppRunner(
            application,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=1.0,
            keepalive_timeout=self.header_timeout,
            max_line_size=MAX_HEADER_BYTES,
            max_field_size=MAX_HEADER_BYTES,
        )
        await runner.setup()
        self._runner = runner
        port = self._port or self._remembered_port()
        site = ListenerSite(runner, self.host, port, ssl_context=ssl_context)
        try:
            await site.start()
        except BaseException:
            await self.stop()
            raise
        bound_port = int(runner.addresses[0][1])
        scheme = "http" if self.insecure_http else "https"
        host = self.host if self.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        self._url = f"{scheme}://{host}:{bound_port}"
        if self.data_dir is not None:
            (self.data_dir / PORT_FILE).write_text(f"{bound_port}\n")
        with store.batch():
            for name in dict.fromkeys([*tokens.clusters, *self._requested_clusters]):
                await self.add_cluster(name)
        self._save_tokens()
        self._write_admin_kubeconfig()
        self._serving = True
        self._compactor = asyncio.create_task(self._compact_forever(store))
        logger.info(
            "serving %d logical clusters at %s (store: %s)",
            len(self.kubeconfigs),
            self._url,
            "sqlite" if self.data_dir is not None else "memory",
        )

    def _open_state(self) -> tuple[Store, BearerTokens, CertificateAuthority | None]:
        if self.data_dir is None:
            ca = None if self.insecure_http else CertificateAuthority.generate("pytest-syncer-ca")
            return MemoryStore(), BearerTokens.create(), ca
        self.data_dir.mkdir(parents=True, exist_ok=True)
        tokens = BearerTokens.load_or_create(self.data_dir / TOKENS_FILE)
        ca = None if self.insecure_http else CertificateAuthority.load_or_create(self.data_dir)
        return SQLiteStore(self.data_dir / DATABASE_FILE), tokens, ca

    def _configure_admission(self, admission: ClusterAdmission, known: list[str]) -> None:
        """What the data dir remembers, then what was asked for, which must name served clusters."""
        served = {*known, *self._requested_clusters}
        unserved = sorted(set(self._requested_admission) - served)
        if unserved:
            raise ValueError(
                f"admission plugins for clusters that are not served: {', '.join(unserved)}"
            )
        if self.data_dir is not None:
            admission.load(self.data_dir / ADMISSION_FILE)
        for cluster, names in self._requested_admission.items():
            admission.enable(cluster, names)
        self._save_admission()
        for cluster, enabled in admission.enabled().items():
            logger.info("cluster=%s admission plugins: %s", cluster, ",".join(enabled))

    def _save_admission(self) -> None:
        if self.data_dir is not None and self._app is not None:
            self._app.api.admission.save(self.data_dir / ADMISSION_FILE)

    def _remembered_port(self) -> int:
        if self.data_dir is None:
            return 0
        remembered = self.data_dir / PORT_FILE
        if remembered.exists():
            return int(remembered.read_text().strip() or 0)
        return 0

    def _server_certificate(self, ca: CertificateAuthority) -> tuple[bytes, bytes]:
        hostnames = ["localhost"]
        addresses = ["127.0.0.1", "::1"]
        try:
            address = ipaddress.ip_address(self.host)
        except ValueError:
            if self.host not in hostnames:
                hostnames.append(self.host)
        else:
            if not address.is_unspecified and str(address) not in addresses:
                addresses.append(str(address))
        return ca.issue_server_certificate(hostnames, addresses)

    async def add_cluster(
        self, name: str, *, admission_plugins: Sequence[str] | None = None
    ) -> Path:
        """Serve logical cluster ``name`` (born with its namespaces) and write its kubeconfig.

        ``admission_plugins`` replaces the plugins the cluster runs; ``None`` keeps them.
        """
        _check_cluster_name(name)
        if self._app is None or self._tokens is None:
            raise RuntimeError("the API server is not started")
        if admission_plugins is not None:
            self._app.api.admission.enable(name, admission_plugins)
            self._save_admission()
        token = self._tokens.add_cluster(name)
        if self._serving:
            self._save_tokens()
        self._app.clusters.add(name)
        self._bootstrap(name)
        path = write_kubeconfig(
            self.kubeconfig_dir / f"{name}.kubeconfig",
            server=self.cluster_url(name),
            token=token,
            ca_pem=self._ca_pem,
            name=name,
        )
        new = name not in self.kubeconfigs
        self.kubeconfigs[name] = path
        if new and self._serving:
            self._write_admin_kubeconfig()
            logger.info("cluster=%s added at %s", name, self.cluster_url(name))
        return path

    def _save_tokens(self) -> None:
        if self.data_dir is not None and self._tokens is not None:
            self._tokens.save(self.data_dir / TOKENS_FILE)

    def _bootstrap(self, cluster: str) -> None:
        """Namespaces default, kube-system, kube-public, each with a ``default`` ServiceAccount,
        and the nodes, PriorityClasses and APIServices of :mod:`~.api.bootstrap`."""
        assert self._app is not None
        api = self._app.api
        registry = api.registry
        namespaces = registry.require("", "v1", "namespaces")
        for namespace in BOOTSTRAP_NAMESPACES:
            if api.store.get(ObjectKey(namespaces.key, cluster, "", namespace)) is None:
                api.create(
                    ResourcePath(cluster, namespaces, None),
                    {"metadata": {"name": namespace}},
                )
        born_with = (
            (("", "nodes"), bootstrap.nodes()),
            (("scheduling.k8s.io", "priorityclasses"), bootstrap.system_priority_classes()),
            (("apiregistration.k8s.io", "apiservices"), bootstrap.api_services(registry)),
        )
        for (group, resource), objects in born_with:
            resource_type = registry.require(group, "v1", resource)
            for obj in objects:
                name = obj["metadata"]["name"]
                if api.store.get(ObjectKey(resource_type.key, cluster, "", name)) is None:
                    created = api.create(ResourcePath(cluster, resource_type, None), obj)
                    if resource_type.has_status:
                        status = ResourcePath(cluster, resource_type, None, name, "status")
                        api.update(status, {**created, "status": obj["status"]})

    def _write_admin_kubeconfig(self) -> None:
        assert self._tokens is not None
        token = self._tokens.admin_token
        contexts = {
            name: KubeconfigContext(server=self.cluster_url(name), token=token, ca_pem=self._ca_pem)
            for name in self.kubeconfigs
        }
        contexts[WILDCARD_CONTEXT] = KubeconfigContext(
            server=self.cluster_url("*"), token=token, ca_pem=self._ca_pem
        )
        write_multi_context_kubeconfig(self.admin_kubeconfig, contexts)

    async def _compact_forever(self, store: Store) -> None:
        interval = max(0.05, min(self.watch_retention / 4, 30.0))
        while True:
            store.compact(time.time() - self.watch_retention)
            await asyncio.sleep(interval)

    def ready_payload(self) -> dict[str, Any]:
        """What the CLI prints once it serves: base URL, kubeconfig paths, CA file."""
        return {
            "url": self.url,
            "kubeconfigs": {name: str(path) for name, path in self.kubeconfigs.items()},
            "admin": str(self.admin_kubeconfig),
            "ca": None if self.ca_file is None else str(self.ca_file),
            "admission_plugins": self.admission_plugins,
        }

    async def stop(self) -> None:
        if self._compactor is not None:
            self._compactor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._compactor
            self._compactor = None
        if self._app is not None:
            self._app.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._store is not None:
            self._store.close()
            self._store = None
        self._app = None
        self._serving = False


def _check_cluster_name(name: str) -> None:
    if not is_valid_cluster_name(name):
        raise ValueError(
            f"invalid logical cluster name {name!r}: lower-case letters, digits and '-', "
            "optionally joined by ':' (like root:org:ws)"
        )


class BackgroundAPIServer(SyncLifetime, start="start", stop="stop"):
    """An :class:`EmbeddedAPIServer` on its own event loop in a thread, for sync fixtures.

    ``start()`` returns once it serves; ``stop()`` shuts it down and joins the thread. The
    attributes of the wrapped server (``url``, ``kubeconfigs``, ``admin_kubeconfig``,
    ``ca_file``) are available here too.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.server = EmbeddedAPIServer(*args, **kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def kubeconfigs(self) -> dict[str, Path]:
        return self.server.kubeconfigs

    @property
    def admin_kubeconfig(self) -> Path:
        return self.server.admin_kubeconfig

    @property
    def ca_file(self) -> Path | None:
        return self.server.ca_file

    def ready_payload(self) -> dict[str, Any]:
        return self.server.ready_payload()

    async def _serve(self, started: concurrent.futures.Future[None]) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            await self.server.start()
        except BaseException as exc:
            started.set_exception(exc)
            return
        started.set_result(None)
        try:
            await self._stopping.wait()
        finally:
            await self.server.stop()

    def start(self, timeout: float = 60.0) -> dict[str, Any]:
        if self._thread is not None:
            raise RuntimeError("the API server is already started")
        started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._serve(started)), name="embedded-apiserver", daemon=True
        )
        self._thread.start()
        try:
            started.result(timeout)
        except BaseException:
            self.stop()
            raise
        return self.ready_payload()

    def add_cluster(
        self,
        name: str,
        timeout: float = 60.0,
        *,
        admission_plugins: Sequence[str] | None = None,
    ) -> Path:
        if self._loop is None:
            raise RuntimeError("the API server is not started")
        adding = self.server.add_cluster(name, admission_plugins=admission_plugins)
        future = asyncio.run_coroutine_threadsafe(adding, self._loop)
        return future.result(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        if loop is not None and stopping is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout)
        self._thread = self._loop = self._stopping = None
