"""An async client for any resource of any cluster a kubeconfig reaches, speaking plain dicts.

Kubeconfig loading, TLS and authentication come from the official client's `kubernetes.aio`;
the requests carry orjson bodies, because the generated models cost more than the whole sync
of one object and the syncer only needs JSON. Requests go through the lean keep-alive client of
`http1/` on the official client's TLS context: aiohttp's client request path was a quarter of
a syncer pool's CPU under load. Watches stay on an aiohttp session (its read timeout and flow
control; aiohttp under the watches was about 1% of a pool's CPU), as do all requests of a
kubeconfig with a `proxy-url`, which the lean client does not speak. Neither reads proxy and
netrc settings from the environment (aiohttp does that in two thread hops per request).

Clients made with `share_connections` that reach one server the same way on one event loop (a
pool's targets, each with its own kubeconfig and token on one API server) share their request
pool and watch session, and so their keep-alive connections: a burst of requests then opens
connections for the requests in flight across the pool, not for each target's own (a TLS
handshake each: a ninth to a sixth of a pool's CPU in a 30 s load run). Others keep their own,
so a client made after a server restart starts on fresh connections.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import weakref
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
import orjson
import yarl
from aiohttp.http import SERVER_SOFTWARE
from kubernetes.aio import config as aio_config

from pytest_syncer.contract.objects import KubeObject, ObjectReference
from pytest_syncer.http1.pool import HTTP1Pool
from pytest_syncer.process.lifetime import Lifetime

log = logging.getLogger(__name__)

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
WATCH_READ_TIMEOUT_SECONDS = 330.0
"""A watch's stream may stay silent this long: the server's own timeout plus a margin."""


@dataclass(frozen=True)
class Resource:
    """One served resource: where it lives and what its objects are called."""

    group: str
    version: str
    resource: str
    kind: str
    namespaced: bool = True

    @classmethod
    def referred_to(cls, reference: ObjectReference) -> Resource:
        """The resource of the object a reference names (a SyncStatus's workload)."""
        group, _, version = reference.api_version.rpartition("/")
        return cls(group, version, reference.resource, reference.kind)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified_name(self) -> str:
        """`deployments.apps`, `configmaps`: the form `--resources` takes."""
        return f"{self.resource}.{self.group}" if self.group else self.resource

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if namespace is not None and self.namespaced:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{self.resource}"
        if name is not None:
            base += f"/{quote(name, safe='')}"
        return base


NAMESPACES = Resource("", "v1", "namespaces", "Namespace", namespaced=False)
EVENTS = Resource("", "v1", "events", "Event")
SYNC_TARGETS = Resource("workload.kcp.io", "v1alpha1", "synctargets", "SyncTarget", False)
SYNC_STATUSES = Resource("workload.kcp.io", "v1alpha1", "syncstatuses", "SyncStatus")
CONTROLLED_WORKLOADS = (
    Resource("apps", "v1", "deployments", "Deployment"),
    Resource("apps", "v1", "replicasets", "ReplicaSet"),
    Resource("apps", "v1", "statefulsets", "StatefulSet"),
    Resource("apps", "v1", "daemonsets", "DaemonSet"),
    Resource("batch", "v1", "jobs", "Job"),
)
"""The built-in workloads whose status a controller of the cluster writes from their pods."""


class ApiError(Exception):
    """A non-2xx answer; `status` is the HTTP code, `reason` the Status object's reason."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def conflict(self) -> bool:
        """A stale resourceVersion (409 Conflict), as opposed to AlreadyExists."""
        return self.status == 409 and self.reason != "AlreadyExists"

    @property
    def already_exists(self) -> bool:
        return self.status == 409 and self.reason == "AlreadyExists"

    @classmethod
    def from_body(cls, status: int, body: bytes) -> ApiError:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict) and data.get("kind") == "Status":
            return cls(status, str(data.get("reason", "")), str(data.get("message", "")))
        return cls(status, "", body[:200].decode(errors="replace"))


UNREACHABLE = (aiohttp.ClientError, OSError, TimeoutError)
"""What a request raises when the server did not answer it: a refused, broken or unreadable
connection (the lean client's `HTTPError` is a ConnectionError, aiohttp's are ClientErrors),
or no answer in time."""
REQUEST_ERRORS = (ApiError, *UNREACHABLE)
"""What a request raises: no answer, or an answer that is not 2xx."""


@functools.cache
def _timeout(total: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=total)


_WATCH_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_read=WATCH_READ_TIMEOUT_SECONDS)


REQUEST_CONNECTIONS = 128
"""Connections to one server open at once for requests (watches have their own): a burst
waits for a kept-alive one instead of opening one per request in flight, a TLS handshake each
on both sides, while the server, one event loop, answers no faster with more."""

USER_AGENT = SERVER_SOFTWARE
"""What aiohttp sends: the server names the field manager of a write after it, so the
managedFields entries stay those the client always wrote."""


def _session(rest: Any, limit: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit, ssl=rest.ssl_context),
        trust_env=False,
        read_bufsize=2**21,
        cookie_jar=aiohttp.DummyCookieJar(),
    )


class _SharedSessions:
    """One server's connections: requests (bounded; the lean pool, or an aiohttp session
    through a proxy) and watches (one connection each, for as long as the watch lasts, so
    never waiting behind requests)."""

    def __init__(self, configuration: Any, rest: Any) -> None:
        self.requests: HTTP1Pool | aiohttp.ClientSession
        if configuration.proxy:
            self.requests = _session(rest, REQUEST_CONNECTIONS)
        else:
            self.requests = HTTP1Pool(
                str(yarl.URL(str(configuration.host)).origin()),
                rest.ssl_context,
                limit=REQUEST_CONNECTIONS,
                max_idle=REQUEST_CONNECTIONS,
                server_hostname=getattr(configuration, "tls_server_name", None),
            )
        self.watches = _session(rest, 0)
        self.users = 0

    async def close(self) -> None:
        if isinstance(self.requests, HTTP1Pool):
            self.requests.close()
        else:
            await self.requests.close()
        await self.watches.close()


_SESSIONS: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[Any, ...], _SharedSessions]
] = weakref.WeakKeyDictionary()
"""Per event loop, the sessions by what makes a connection reusable (`_transport_key`)."""


def _transport_key(configuration: Any) -> tuple[Any, ...]:
    """Everything a connection depends on: the server's origin and the TLS and proxy
    settings; the path (the logical cluster) and the credentials go in each request."""
    origin = yarl.URL(str(configuration.host)).origin()
    return (
        str(origin),
        configuration.ssl_ca_cert,
        configuration.ca_cert_data,
        configuration.cert_file,
        configuration.key_file,
        configuration.verify_ssl,
        getattr(configuration, "disable_strict_ssl_verification", False),
        getattr(configuration, "tls_server_name", None),
        configuration.proxy,
    )


class KubeClient(Lifetime, stop="close"):
    """One cluster (a logical cluster's URL) reached through a kubeconfig.

    Use `async with await KubeClient.from_kubeconfig(path) as client:`.
    """

    def __init__(self, api_client: Any, *, share_connections: bool = False) -> None:
        self._api_client = api_client
        self._configuration = api_client.configuration
        self.server = str(self._configuration.host).rstrip("/")
        self._proxy = self._configuration.proxy or None
        self._server_hostname = getattr(self._configuration, "tls_server_name", None) or None
        url = yarl.URL(self.server)
        self._origin = str(url.origin())
        self._base_path = url.raw_path.rstrip("/")
        """The server's path percent-encoded once; paths and queries are encoded as built."""
        self._static_headers: dict[str, str] | None = None
        self._key = _transport_key(self._configuration) if share_connections else None
        sessions = _SESSIONS.setdefault(asyncio.get_running_loop(), {})
        shared = sessions.get(self._key) if self._key is not None else None
        if shared is None:
            shared = _SharedSessions(self._configuration, api_client.rest_client)
            if self._key is not None:
                sessions[self._key] = shared
        shared.users += 1
        self._shared = shared
        self._closed = False

    @classmethod
    async def from_kubeconfig(
        cls, path: Path | str, context: str | None = None, *, share_connections: bool = False
    ) -> KubeClient:
        api_client = await aio_config.new_client_from_config(
            config_file=str(path), context=context, persist_config=False
        )
        return cls(api_client, share_connections=share_connections)

    @property
    def logical_cluster(self) -> str | None:
        """The path segment after `/clusters/` in the server URL, as kcp addresses workspaces."""
        parts = urlsplit(self.server).path.strip("/").split("/")
        if len(parts) >= 2 and parts[0] == "clusters" and parts[1]:
            return parts[1]
        return None

    async def close(self) -> None:
        """Close this client; the shared session closes with the last of its clients."""
        if self._closed:
            return
        self._closed = True
        shared = self._shared
        shared.users -= 1
        if shared.users == 0:
            sessions = _SESSIONS.get(asyncio.get_running_loop(), {})
            if self._key is not None and sessions.get(self._key) is shared:
                del sessions[self._key]
            await shared.close()
        await self._api_client.close()

    async def _headers(self, content_type: str | None = None) -> dict[str, str]:
        """Accept and the credentials; read once unless the configuration refreshes its
        token (an in-cluster service account's rotates, so it is asked every time)."""
        headers = self._static_headers
        if headers is None:
            headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
            for setting in (await self._configuration.auth_settings()).values():
                if setting["in"] == "header" and setting["value"]:
                    headers[setting["key"]] = setting["value"]
            if self._configuration.refresh_api_key_hook is None:
                self._static_headers = headers
        if content_type is not None:
            return {**headers, "Content-Type": content_type}
        return headers

    def _target(self, path: str, query: Mapping[str, Any] | None) -> str:
        """The request target below the origin, encoded (`Resource.path` quotes, `urlencode`
        encodes)."""
        target = self._base_path + path
        if query:
            pairs = {key: value for key, value in query.items() if value is not None}
            target += "?" + urlencode(pairs)
        return target

    def _url(self, path: str, query: Mapping[str, Any] | None) -> yarl.URL:
        """Already encoded: yarl need not."""
        return yarl.URL(self._origin + self._target(path, query), encoded=True)

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float = 30.0,
    ) -> KubeObject:
        data = b"" if body is None else orjson.dumps(body)
        headers = await self._headers(content_type if data else None)
        payload = await self._send(method, self._target(path, query), headers, data, timeout)
        result: KubeObject = orjson.loads(payload) if payload else {}
        return result

    async def _send(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, timeout: float
    ) -> bytes:
        """One exchange's body, the wait for a connection counted in `timeout`: on the lean
        pool, or on the aiohttp session through the kubeconfig's proxy; ApiError if not 2xx."""
        requests = self._shared.requests
        if isinstance(requests, HTTP1Pool):
            async with asyncio.timeout(timeout):
                exchange = await requests.request(method, target, list(headers.items()), body)
                try:
                    status, payload = exchange.head.status, await exchange.read()
                finally:
                    exchange.release()
        else:
            async with requests.request(
                method,
                yarl.URL(self._origin + target, encoded=True),
                data=body or None,
                headers=headers,
                proxy=self._proxy,
                server_hostname=self._server_hostname,
                timeout=_timeout(timeout),
            ) as response:
                status, payload = response.status, await response.read()
        if status >= 300:
            raise ApiError.from_body(status, payload)
        return payload

    async def metrics(self) -> str:
        """The server's `/metrics` page, at its root (outside any logical cluster)."""
        payload = await self._send("GET", "/metrics", await self._headers(), b"", 30.0)
        return payload.decode()

    async def list(
        self,
        resource: Resource,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> KubeObject:
        """The List object: `items` and `metadata.resourceVersion` to watch from."""
        query = {"labelSelector": label_selector, "fieldSelector": field_selector}
        return await self.request("GET", resource.path(namespace), query=query, timeout=120.0)

    async def get(self, resource: Resource, name: str, namespace: str | None = None) -> KubeObject:
        return await self.request("GET", resource.path(namespace, name))

    async def get_or_none(
        self, resource: Resource, name: str, namespace: str | None = None
    ) -> KubeObject | None:
        try:
            return await self.get(resource, name, namespace)
        except ApiError as error:
            if error.not_found:
                return None
            raise

    async def create(self, resource: Resource, obj: KubeObject) -> KubeObject:
        namespace = obj.get("metadata", {}).get("namespace")
        return await self.request("POST", resource.path(namespace), body=obj)

    async def replace(self, resource: Resource, obj: KubeObject) -> KubeObject:
        """PUT; the object's `metadata.resourceVersion` makes a stale write a 409."""
        metadata = obj["metadata"]
        path = resource.path(metadata.get("namespace"), metadata["name"])
        return await self.request("PUT", path, body=obj)

    async def patch(
        self,
        resource: Resource,
        name: str,
        patch: Any,
        namespace: str | None = None,
        *,
        content_type: str = MERGE_PATCH,
        subresource: str | None = None,
    ) -> KubeObject:
        path = resource.path(namespace, name)
        if subresource is not None:
            path += f"/{subresource}"
        return await self.request("PATCH", path, body=patch, content_type=content_type)

    async def delete(
        self,
        resource: Resource,
        name: str,
        namespace: str | None = None,
        *,
        propagation: str = "Background",
        grace_period_seconds: int | None = None,
        uid: str | None = None,
    ) -> KubeObject | None:
        """Delete; the server's answer (the object while finalizers or a grace period hold
        it), None if gone. ``uid`` is a precondition (409 when the name holds another object)."""
        options: dict[str, Any] = {
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "propagationPolicy": propagation,
        }
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if uid is not None:
            options["preconditions"] = {"uid": uid}
        try:
            return await self.request("DELETE", resource.path(namespace, name), body=options)
        except ApiError as error:
            if error.not_found:
                return None
            raise

    async def watch(
        self,
        resource: Resource,
        resource_version: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        timeout_seconds: int = 300,
    ) -> AsyncIterator[KubeObject]:
        """Watch events (`type`, `object`) from a resourceVersion, bookmarks included.

        An `ERROR` event (a 410 among them) arrives as an event; the caller decides.
        """
        query = {
            "watch": "true",
            "resourceVersion": resource_version,
            "allowWatchBookmarks": "true",
            "labelSelector": label_selector,
            "timeoutSeconds": timeout_seconds,
        }
        async with self._shared.watches.get(
            self._url(resource.path(namespace), query),
            headers=await self._headers(),
            proxy=self._proxy,
            server_hostname=self._server_hostname,
            timeout=_WATCH_TIMEOUT,
        ) as response:
            if response.status >= 300:
                raise ApiError.from_body(response.status, await response.read())
            buffer = b""
            async for chunk in response.content.iter_any():
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield orjson.loads(line)

    async def discover(self, qualified_name: str) -> Resource:
        """`deployments.apps` -> the served Resource, from the preferred version's discovery."""
        name, _, group = qualified_name.partition(".")
        if group:
            group_doc = await self.request("GET", f"/apis/{group}")
            version = group_doc["preferredVersion"]["version"]
            listing = await self.request("GET", f"/apis/{group}/{version}")
        else:
            version = "v1"
            listing = await self.request("GET", "/api/v1")
        for entry in listing.get("resources", []):
            if entry.get("name") == name:
                return Resource(group, version, name, entry["kind"], bool(entry["namespaced"]))
        raise ApiError(404, "NotFound", f"the server does not serve {qualified_name}")
