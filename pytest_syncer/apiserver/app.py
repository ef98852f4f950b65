"""The aiohttp application: authentication, routing, bodies, responses and watch streams.

One catch-all handler parses the raw path itself (``paths.py``), so every failure, including an
unknown path or an odd cluster name, is answered with a Kubernetes ``Status`` and the server
keeps serving.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from collections.abc import Mapping
from typing import Any

import orjson
import yaml
from aiohttp import web

from pytest_syncer.apiserver import discovery
from pytest_syncer.apiserver.api import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    ObjectAPI,
    Selection,
    parse_revision,
    patch_document,
)
from pytest_syncer.apiserver.auth import Identity, TokenAuthority
from pytest_syncer.apiserver.controllers import Controllers
from pytest_syncer.apiserver.errors import APIError, expired
from pytest_syncer.apiserver.field_validation import check_fields
from pytest_syncer.apiserver.kinds.deletion import delete_answer
from pytest_syncer.apiserver.kinds.normalise import list_items
from pytest_syncer.apiserver.negotiation import TableFormat, negotiate
from pytest_syncer.apiserver.openapi import OpenAPIDocuments
from pytest_syncer.apiserver.paging import parse_list_options, too_large
from pytest_syncer.apiserver.paths import (
    WILDCARD,
    DiscoveryPath,
    OpenAPIPath,
    ResourcePath,
    parse_path,
)
from pytest_syncer.apiserver.resources import ResourceRegistry, ResourceType
from pytest_syncer.apiserver.scale import (
    SCALE,
    SCALE_API_VERSION,
    SCALE_KIND,
    to_scale,
    with_scale,
)
from pytest_syncer.apiserver.selectors import (
    SelectorError,
    parse_field_selector,
    parse_label_selector,
)
from pytest_syncer.apiserver.store import CompactedError, Store
from pytest_syncer.apiserver.strategic_merge import schema_for
from pytest_syncer.apiserver.watch import (
    Watcher,
    WatchHub,
    added_line,
    bookmark_line,
    error_line,
)
from pytest_syncer.apiserver.write_options import is_dry_run, parse_write_options

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 3 * 1024 * 1024
#: An idle watch checks this often whether its client is still there.
WATCH_IDLE_CHECK_SECONDS = 5.0
_METHOD_VERBS = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
_TRUE = {"true", "1"}
#: Probes answered without a token, as Kubernetes lets anyone read them.
HEALTH_PATHS = frozenset({"/healthz", "/readyz", "/livez"})
#: Body types decoded as JSON; aiohttp reports a missing Content-Type as application/octet-stream.
JSON_TYPES = frozenset(
    {
        "application/json",
        JSON_PATCH,
        MERGE_PATCH,
        STRATEGIC_MERGE_PATCH,
        "application/octet-stream",
        "text/plain",
    }
)
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", APPLY_PATCH})
PROTOBUF = "application/vnd.kubernetes.protobuf"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)


def json_response(document: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(document), status=status, content_type="application/json")


def status_response(error: APIError) -> web.Response:
    return json_response(error.to_status(), error.code)


class APIServerApp:
    """Serves the Kubernetes API for the clusters ``authority`` knows, from ``store``."""

    def __init__(
        self,
        store: Store,
        registry: ResourceRegistry,
        authority: TokenAuthority,
        *,
        bookmark_interval: float = 10.0,
    ) -> None:
        self.store = store
        self.registry = registry
        self.authority = authority
        self.api = ObjectAPI(store, registry)
        self.hub = WatchHub()
        self.bookmark_interval = bookmark_interval
        self.clusters: set[str] = set()
        store.add_listener(self.hub.publish)
        self.controllers = Controllers(self.api)
        self._discovery_cache: dict[tuple[str, str, str, str | None], tuple[int, bytes]] = {}
        self.api.crds.removed_listeners.append(self._end_watches)
        self.openapi = OpenAPIDocuments(registry)

    def close(self) -> None:
        """End every open watch so a shutdown does not wait on them."""
        self.hub.close_all()

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        app.on_startup.append(self.controllers.start)
        app.on_cleanup.append(self.controllers.stop)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.rel_url.raw_path in HEALTH_PATHS and request.method == "GET":
            return web.Response(text="ok")
        try:
            identity = self._authenticate(request)
            path = parse_path(request.rel_url.raw_path, self.registry)
            self._authorize(identity, path.cluster)
            if isinstance(path, DiscoveryPath):
                if request.method != "GET":
                    raise APIError(405, f"{request.method} is not allowed on discovery documents")
                return self._discovery(path)
            if isinstance(path, OpenAPIPath):
                if request.method != "GET":
                    raise APIError(405, f"{request.method} is not allowed on OpenAPI documents")
                body, content_type = self.openapi.document(path, request.headers.get("Accept", ""))
                return web.Response(body=body, content_type=content_type)
            return await self._resource(request, path, identity)
        except APIError as error:
            return status_response(error)
        except Exception:
            logger.exception("internal error serving %s %s", request.method, request.rel_url.path)
            return status_response(APIError(500, "internal error; see the server log"))

    # Authentication and authorization.

    def _authenticate(self, request: web.Request) -> Identity:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise APIError(401, "Unauthorized: a bearer token is required")
        identity = self.authority.authenticate(token.strip())
        if identity is None:
            raise APIError(401, "Unauthorized: the bearer token is not valid")
        return identity

    def _authorize(self, identity: Identity, cluster: str | None) -> None:
        if cluster is None:
            return
        if cluster == WILDCARD:
            if not identity.is_admin:
                raise APIError(
                    403, f'user "{identity.username}" cannot access the wildcard cluster "*"'
                )
            return
        if not identity.may_access(cluster):
            raise APIError(
                403, f'user "{identity.username}" cannot access logical cluster "{cluster}"'
            )
        if cluster not in self.clusters:
            raise APIError(404, f'logical cluster "{cluster}" not found', name=cluster)

    # Discovery.

    def _discovery(self, path: DiscoveryPath) -> web.Response:
        cache_key = (path.document, path.group, path.version, self.registry.view(path.cluster))
        cached = self._discovery_cache.get(cache_key)
        if cached is not None and cached[0] == self.registry.generation:
            body = cached[1]
        else:
            body = orjson.dumps(self._discovery_document(path))
            self._discovery_cache[cache_key] = (self.registry.generation, body)
        return web.Response(body=body, content_type="application/json")

    def _discovery_document(self, path: DiscoveryPath) -> dict[str, Any]:
        view = self.registry.view(path.cluster)
        if path.document == "version":
            return discovery.version_document()
        if path.document == "api":
            return discovery.core_versions_document()
        if path.document == "apis":
            return discovery.group_list_document(self.registry, view)
        if path.document == "group":
            return discovery.group_document(path.group, self.registry.groups(view)[path.group])
        return discovery.resource_list_document(self.registry, path.group, path.version, view)

    def _end_watches(self, cluster: str, removed: list[ResourceType]) -> None:
        """A CRD went away: its watches in ``cluster`` end, as they do on a real server."""
        for key in {resource_type.key for resource_type in removed}:
            self.hub.close_where(key, cluster)

    # Resources.

    async def _resource(
        self, request: web.Request, path: ResourcePath, identity: Identity
    ) -> web.StreamResponse:
        resource_type = path.resource_type
        method = request.method
        if path.cluster is None and not resource_type.stored and method == "POST":
            # A TokenReview at the root asks which cluster a token belongs to: admin only.
            if not identity.is_admin:
                raise APIError(
                    403,
                    f'user "{identity.username}" cannot review tokens outside its logical cluster',
                )
        elif path.cluster is None:
            raise APIError(
                404,
                "resource requests need a logical cluster: /clusters/<name>/... "
                "(or /clusters/*/... to list and watch across clusters)",
            )
        query = request.rel_url.query
        if path.name is None:
            if method == "GET":
                verb = "watch" if query.get("watch", "").lower() in _TRUE else "list"
            else:
                verb = {"POST": "create", "DELETE": "deletecollection"}.get(method, "")
        else:
            verb = _METHOD_VERBS.get(method, "")
        self._check_verb(path, verb, method)
        table = negotiate(request.headers.get("Accept", ""), query)
        if verb == "watch":
            return await self._watch(request, path, query, table)
        if verb == "list":
            return self._list(path, self._selection(resource_type, query), query, table)
        if path.subresource == SCALE and verb in ("get", "update", "patch"):
            return await self._scale(request, path, verb)
        if verb == "get":
            return self._object_response(resource_type, self.api.get(path), table)
        if verb in ("create", "update", "patch"):
            return await self._write(request, path, verb, table)
        options = await self._read_optional_object(request)
        dry_run = parse_write_options(query).dry_run or is_dry_run(options)
        if verb == "delete":
            removed = self.api.get(path) if dry_run else self.api.delete(path, options, query)
            answer = delete_answer(
                resource_type.key, resource_type.group, resource_type.resource, removed
            )
            return json_response(answer)
        selection = self._selection(resource_type, query)
        if dry_run:
            matched = self.api.list_objects(path, selection)
            return json_response(self._list_document(resource_type, matched))
        deleted = self.api.delete_collection(path, selection, options, query)
        return json_response(self._list_document(resource_type, deleted))

    async def _write(
        self, request: web.Request, path: ResourcePath, verb: str, table: TableFormat | None
    ) -> web.Response:
        """create, update and patch: options, field validation, Warning headers."""
        resource_type = path.resource_type
        content_type = request.content_type
        if verb == "patch" and content_type not in PATCH_TYPES:
            raise APIError(
                415,
                f"the patch content type {content_type!r} is not supported; "
                f"use one of {', '.join(PATCH_TYPES)}",
            )
        options = parse_write_options(
            request.rel_url.query,
            user_agent=request.headers.get("User-Agent", ""),
            apply=content_type == APPLY_PATCH,
        )
        body = await (self._read_json(request) if verb == "patch" else self._read_object(request))
        warnings = []
        if content_type != JSON_PATCH:
            schema = schema_for(resource_type.api_version, resource_type.kind)
            warnings = check_fields(body, schema, options.field_validation)
        if verb == "create":
            if not resource_type.stored:
                return json_response(self._token_review(path.cluster, body), 201)
            result, status = self.api.create(path, body, options), 201
        elif verb == "update":
            result, status = self.api.update(path, body, options), 200
        else:
            existed = content_type != APPLY_PATCH or self.store.get(self.api.key(path))
            result = self.api.patch(path, content_type, body, options)
            status = 200 if existed else 201
        response = self._object_response(resource_type, result, table, status)
        for warning in warnings:
            response.headers.add("Warning", f'299 - "{_quoted(warning)}"')
        return response

    async def _scale(self, request: web.Request, path: ResourcePath, verb: str) -> web.Response:
        """The scale subresource: a Scale view of the object; writes change spec.replicas."""
        scale_paths = path.resource_type.scale_paths
        old = self.api.get(path)
        if verb == "get":
            return json_response(to_scale(old, scale_paths))
        content_type = request.content_type
        if verb == "patch" and content_type not in (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH):
            raise APIError(415, f"the scale subresource does not take {content_type!r} patches")
        options = parse_write_options(
            request.rel_url.query, user_agent=request.headers.get("User-Agent", "")
        )
        body = await (self._read_json(request) if verb == "patch" else self._read_object(request))
        if verb == "patch":
            scale = to_scale(old, scale_paths)
            body = patch_document(scale, content_type, body, SCALE_API_VERSION, SCALE_KIND)
        main = dataclasses.replace(path, subresource=None)
        updated = self.api.update(main, with_scale(old, body, scale_paths), options)
        return json_response(to_scale(updated, scale_paths))

    @staticmethod
    def _object_response(
        resource_type: ResourceType,
        obj: dict[str, Any],
        table: TableFormat | None,
        status: int = 200,
    ) -> web.Response:
        if table is None:
            return json_response(obj, status)
        metadata = {"resourceVersion": obj.get("metadata", {}).get("resourceVersion", "")}
        document = table.table(
            resource_type.kind, [obj], metadata, printer_columns=resource_type.printer_columns
        )
        return json_response(document, status)

    @staticmethod
    def _check_verb(path: ResourcePath, verb: str, method: str) -> None:
        resource_type = path.resource_type
        if path.cluster == WILDCARD and verb not in ("list", "watch"):
            raise APIError(405, 'the wildcard cluster "*" serves list and watch only')
        allowed = resource_type.verbs
        if path.subresource is not None:
            allowed = discovery.SUBRESOURCE_VERBS
        if verb not in allowed:
            target = resource_type.resource + (f"/{path.subresource}" if path.subresource else "")
            raise APIError(405, f"{method} is not allowed on {target}")
        creates_outside_namespace = path.name is None and path.namespace is None
        if verb == "create" and resource_type.namespaced and creates_outside_namespace:
            raise APIError(405, f"{resource_type.resource} are created inside a namespace")

    @staticmethod
    def _selection(resource_type: ResourceType, query: Mapping[str, str]) -> Selection:
        try:
            labels = query.get("labelSelector")
            fields = query.get("fieldSelector")
            return Selection(
                labels=parse_label_selector(labels) if labels else None,
                fields=parse_field_selector(fields, resource_type.selectable_fields)
                if fields
                else None,
            )
        except SelectorError as exc:
            raise APIError(400, str(exc)) from None

    def _list_document(
        self,
        resource_type: ResourceType,
        items: list[dict[str, Any]],
        revision: int | None = None,
    ) -> dict[str, Any]:
        shown = self.store.revision if revision is None else revision
        return {
            "kind": f"{resource_type.kind}List",
            "apiVersion": resource_type.api_version,
            "metadata": {"resourceVersion": str(shown)},
            "items": items if resource_type.definition else list_items(items),
        }

    def _list(
        self,
        path: ResourcePath,
        selection: Selection,
        query: Mapping[str, str],
        table: TableFormat | None = None,
    ) -> web.Response:
        options = parse_list_options(query, watch=False)
        if not options.paged_or_pinned:
            document = self._list_document(
                path.resource_type, self.api.list_objects(path, selection)
            )
            return self._list_response(path.resource_type, document, table)
        shown, revision = self.api.list_page(path, selection, options)
        document = self._list_document(path.resource_type, shown.items, revision)
        if shown.continue_token is not None:
            document["metadata"]["continue"] = shown.continue_token
        if shown.remaining is not None:
            document["metadata"]["remainingItemCount"] = shown.remaining
        return self._list_response(path.resource_type, document, table)

    @staticmethod
    def _list_response(
        resource_type: ResourceType, document: dict[str, Any], table: TableFormat | None
    ) -> web.Response:
        if table is None:
            return json_response(document)
        return json_response(
            table.table(
                resource_type.kind,
                document["items"],
                document["metadata"],
                printer_columns=resource_type.printer_columns,
            )
        )

    # Bodies.

    async def _read_json(self, request: web.Request) -> Any:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            raise self._too_large()
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise self._too_large() from None
        if not raw.strip():
            raise APIError(400, "the request body is empty")
        content_type = request.content_type
        if content_type in YAML_TYPES:
            try:
                return yaml.safe_load(raw)
            except yaml.YAMLError as exc:
                raise APIError(400, f"the request body is not valid YAML: {exc}") from None
        if content_type == PROTOBUF:
            raise APIError(
                415,
                "protobuf request bodies are not supported by this server; kubectl sends them "
                "from its generators (kubectl create namespace/configmap/secret/deployment "
                "NAME ...): create from a manifest instead (kubectl create -f, kubectl apply -f)",
            )
        if content_type not in JSON_TYPES:
            raise APIError(
                415,
                f"the body's content type {content_type!r} is not supported; "
                "send application/json (or application/yaml)",
            )
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise APIError(400, f"the request body is not valid JSON: {exc}") from None

    async def _read_object(self, request: web.Request) -> dict[str, Any]:
        body = await self._read_json(request)
        if not isinstance(body, dict):
            raise APIError(400, "the request body must be a JSON object")
        return body

    async def _read_optional_object(self, request: web.Request) -> dict[str, Any] | None:
        """DeleteOptions: an empty body means none."""
        if not request.body_exists or request.content_length == 0:
            return None
        body = await self._read_json(request)
        if not isinstance(body, dict):
            raise APIError(400, "DeleteOptions must be a JSON object")
        return body

    @staticmethod
    def _too_large() -> APIError:
        return APIError(413, f"the request body is larger than {MAX_BODY_BYTES} bytes")

    # TokenReview.

    def _token_review(self, cluster: str | None, body: dict[str, Any]) -> dict[str, Any]:
        """Whether ``spec.token`` is valid for ``cluster`` (for any cluster at the root)."""
        spec = body.get("spec") or {}
        token = spec.get("token") if isinstance(spec, dict) else None
        if not isinstance(token, str) or not token:
            raise APIError(
                422,
                "TokenReview is invalid: spec.token: Required value",
                kind="TokenReview",
                group="authentication.k8s.io",
                causes=[
                    {
                        "reason": "FieldValueRequired",
                        "message": "Required value",
                        "field": "spec.token",
                    }
                ],
            )
        identity = self.authority.authenticate(token)
        status: dict[str, Any]
        if identity is not None and (cluster is None or identity.may_access(cluster)):
            belongs_to = identity.cluster or cluster
            status = {
                "authenticated": True,
                "user": {
                    "username": identity.username,
                    "uid": identity.username,
                    "groups": ["system:authenticated"]
                    + (["system:masters"] if identity.is_admin else []),
                    "extra": {"kcp.io/cluster": [belongs_to]} if belongs_to else {},
                },
                "audiences": list(spec.get("audiences") or []),
            }
        else:
            status = {
                "authenticated": False,
                "error": f'the token is not valid for logical cluster "{cluster}"'
                if cluster
                else "the token is not valid for any logical cluster",
            }
        echoed_spec = {**spec, "token": ""}
        return {
            "kind": "TokenReview",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": None},
            "spec": echoed_spec,
            "status": status,
        }

    # Watch.

    async def _watch(
        self,
        request: web.Request,
        path: ResourcePath,
        query: Mapping[str, str],
        table: TableFormat | None = None,
    ) -> web.StreamResponse:
        resource_type = path.resource_type
        selection = self._selection(resource_type, query)
        revision = parse_revision(query.get("resourceVersion"))
        if revision is not None and revision > self.store.revision:
            # As the list does, and as kube-apiserver does once its cache has waited: a
            # client resuming from a revision this server never reached must list again.
            raise too_large(revision, self.store.revision)
        options = parse_list_options(query, watch=True)
        bookmarks = options.allow_bookmarks
        send_initial = bool(options.send_initial_events)
        timeout = self._timeout(query.get("timeoutSeconds"))
        cluster = None if path.cluster == WILDCARD else path.cluster
        encoder = (
            None
            if table is None
            else table.watch_encoder(resource_type.kind, resource_type.printer_columns)
        )
        watcher = Watcher(resource_type.key, cluster, path.namespace, selection, encoder)
        initial = b""
        failure: bytes | None = None
        from_now = options.send_initial_events is False
        if (revision in (None, 0) and not from_now) or send_initial:
            items = self.api.list_objects(path, selection)
            encode = added_line if encoder is None else functools.partial(encoder, "ADDED")
            initial = b"".join(encode(item) for item in items)
        elif revision:
            try:
                for event in self.store.events_since(resource_type.key, revision):
                    watcher.offer(event)
            except CompactedError as exc:
                failure = error_line(expired(exc.revision, exc.compacted).to_status())
        start_revision = self.store.revision
        self.hub.add(watcher)
        try:
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            if failure is not None:
                await response.write(failure)
                return response
            if send_initial:
                initial += bookmark_line(
                    resource_type.api_version,
                    resource_type.kind,
                    start_revision,
                    initial_events_end=True,
                )
            if initial:
                await response.write(initial)
            await self._stream(request, response, watcher, resource_type, timeout, bookmarks)
        except ConnectionResetError:
            pass
        finally:
            self.hub.remove(watcher)
        return response

    async def _stream(
        self,
        request: web.Request,
        response: web.StreamResponse,
        watcher: Watcher,
        resource_type: ResourceType,
        timeout: float | None,
        bookmarks: bool,
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        next_bookmark = loop.time() + self.bookmark_interval
        while True:
            now = loop.time()
            wait = WATCH_IDLE_CHECK_SECONDS
            if deadline is not None:
                wait = min(wait, deadline - now)
            if bookmarks:
                wait = min(wait, next_bookmark - now)
            if wait > 0:
                await watcher.wait(wait)
            if watcher.overflowed or _client_gone(request):
                return
            if watcher.closed:
                await response.write(watcher.drain())
                return
            drained_revision = self.store.revision
            data = watcher.drain()
            if bookmarks and loop.time() >= next_bookmark:
                data += bookmark_line(
                    resource_type.api_version, resource_type.kind, drained_revision
                )
                next_bookmark = loop.time() + self.bookmark_interval
            if data:
                await response.write(data)
            if deadline is not None and loop.time() >= deadline:
                return

    @staticmethod
    def _timeout(value: str | None) -> float | None:
        if value is None or value == "":
            return None
        try:
            seconds = float(value)
        except ValueError:
            raise APIError(400, f"invalid timeoutSeconds {value!r}") from None
        if seconds < 0:
            raise APIError(400, f"invalid timeoutSeconds {value!r}")
        return seconds or None


def _quoted(text: str) -> str:
    """Text inside a Warning header's quoted string."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()
