"""The aiohttp application: authentication, routing and responses.

One catch-all handler parses the raw path itself (``paths.py``), so every failure, including an
unknown path or an odd cluster name, is answered with a Kubernetes ``Status`` and the server
keeps serving. What a request means is the API's to decide (``api/``); bodies and watch streams
have their own modules here (``bodies.py``, ``watch_stream.py``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from aiohttp import web

from pytest_syncer.apiserver.api import authorization
from pytest_syncer.apiserver.api.conversion import CONVERSIONS, FIELD_LABELS
from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.field_validation import check_fields
from pytest_syncer.apiserver.api.kinds.deletion import delete_answer
from pytest_syncer.apiserver.api.kinds.normalise import list_items
from pytest_syncer.apiserver.api.object_api import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    ObjectAPI,
    Selection,
    patch_document,
)
from pytest_syncer.apiserver.api.paging import parse_list_options
from pytest_syncer.apiserver.api.resources import (
    ResourcePath,
    ResourceType,
    subresource_type,
    subresource_verbs,
)
from pytest_syncer.apiserver.api.scale import (
    SCALE,
    SCALE_API_VERSION,
    SCALE_KIND,
    to_scale,
    with_scale,
)
from pytest_syncer.apiserver.api.selectors import (
    SelectorError,
    parse_field_selector,
    parse_label_selector,
)
from pytest_syncer.apiserver.api.strategic_merge import schema_for
from pytest_syncer.apiserver.api.token_request import request_token
from pytest_syncer.apiserver.api.token_review import check_root_reviewer, review_token
from pytest_syncer.apiserver.api.watch import WatchFanout
from pytest_syncer.apiserver.api.write_options import (
    WriteOptions,
    is_delete_dry_run,
    parse_write_options,
)
from pytest_syncer.apiserver.auth import BearerTokens, Identity
from pytest_syncer.apiserver.http import discovery
from pytest_syncer.apiserver.http.bodies import (
    MAX_BODY_BYTES,
    PATCH_TYPES,
    check_body_type,
    read_json,
    read_object,
    read_optional_object,
)
from pytest_syncer.apiserver.http.metrics import RequestMetrics
from pytest_syncer.apiserver.http.negotiation import Output, TableFormat, negotiate, render_document
from pytest_syncer.apiserver.http.openapi import OpenAPIDocuments
from pytest_syncer.apiserver.http.paths import WILDCARD, DiscoveryPath, OpenAPIPath, parse_path
from pytest_syncer.apiserver.http.protobuf import envelope as protobuf
from pytest_syncer.apiserver.http.protobuf import serving as protobuf_serving
from pytest_syncer.apiserver.http.watch_stream import serve_watch
from pytest_syncer.apiserver.store import ObjectKey, StoreFailedError, committed

logger = logging.getLogger(__name__)

_METHOD_VERBS = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
_TRUE = {"true", "1"}
#: Probes answered without a token, as Kubernetes lets anyone read them.
HEALTH_PATHS = frozenset({"/healthz", "/readyz", "/livez"})


def json_response(document: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(document), status=status, content_type="application/json")


def status_response(error: APIError, in_protobuf: bool = False) -> web.Response:
    if in_protobuf and error.code != 406:
        return protobuf_serving.response(error.to_status(), error.code)
    return json_response(error.to_status(), error.code)


def document_response(document: Any, output: Output, status: int = 200) -> web.Response:
    """An object or list as negotiated (:func:`~.negotiation.render_document`)."""
    body, content_type = render_document(document, output)
    return web.Response(body=body, status=status, content_type=content_type)


class APIServerApp:
    """Serves ``api`` over HTTP to the clusters ``tokens`` know; ``fanout`` feeds its watches."""

    def __init__(
        self,
        api: ObjectAPI,
        fanout: WatchFanout,
        tokens: BearerTokens,
        *,
        bookmark_interval: float = 10.0,
    ) -> None:
        self.api = api
        self.store = api.store
        self.registry = api.registry
        self.fanout = fanout
        self.tokens = tokens
        self.bookmark_interval = bookmark_interval
        self.clusters: set[str] = set()
        self._discovery_cache: dict[
            tuple[str, str, str, str | None, str | None], tuple[int, bytes]
        ] = {}
        self.openapi = OpenAPIDocuments(self.registry)
        self.metrics = RequestMetrics()
        api.listed = self.metrics.listed

    def close(self) -> None:
        """End every open watch so a shutdown does not wait on them."""
        self.fanout.close_all()

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        # ``[\s\S]``, not ``.``: a decoded path with a newline (``%0A``) must reach ``handle`` and
        # get a Status, not aiohttp's plain-text 404.
        app.router.add_route("*", r"/{tail:[\s\S]*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer ``request`` once every write so far is committed (the store's group commit):
        an answer must not tell of a write that a server killed right after would forget."""
        response = await self._answer_request(request)
        try:
            await committed(self.store)
        except StoreFailedError as exc:
            logger.error("not answering %s %s: %s", request.method, request.rel_url.path, exc)
            internal = APIError(500, "internal error; see the server log")
            return status_response(internal, self._errors_in_protobuf(request))
        return response

    async def _answer_request(self, request: web.Request) -> web.StreamResponse:
        if request.rel_url.raw_path in HEALTH_PATHS and request.method == "GET":
            return web.Response(text="ok")
        try:
            identity = self._authenticate(request)
            if request.rel_url.raw_path == "/metrics" and request.method == "GET":
                refused = authorization.non_resource_denial(identity, "get", "/metrics")
                if refused is not None:
                    raise APIError(403, refused)
                return web.Response(text=self.metrics.render())
            path = parse_path(request.rel_url.raw_path, self.registry)
            self._authorize(identity, path)
            if isinstance(path, DiscoveryPath):
                if request.method != "GET":
                    raise APIError(405, f"{request.method} is not allowed on discovery documents")
                return self._discovery(path, request.headers.get("Accept", ""))
            if isinstance(path, OpenAPIPath):
                if request.method != "GET":
                    raise APIError(405, f"{request.method} is not allowed on OpenAPI documents")
                body, content_type = self.openapi.document(path, request.headers.get("Accept", ""))
                return web.Response(body=body, content_type=content_type)
            return await self._resource(request, path, identity)
        except APIError as error:
            return status_response(error, self._errors_in_protobuf(request))
        except Exception:
            logger.exception("internal error serving %s %s", request.method, request.rel_url.path)
            internal = APIError(500, "internal error; see the server log")
            return status_response(internal, self._errors_in_protobuf(request))

    @staticmethod
    def _errors_in_protobuf(request: web.Request) -> bool:
        return protobuf_serving.prefers_protobuf(request.headers.get("Accept", ""))

    # Authentication and authorization.

    def _authenticate(self, request: web.Request) -> Identity:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise APIError(401, "Unauthorized: a bearer token is required")
        identity = self.identify(token.strip())
        if identity is None:
            raise APIError(401, "Unauthorized: the bearer token is not valid")
        return identity

    def identify(self, token: str, audiences: Sequence[str] = ()) -> Identity | None:
        """Who ``token`` is; a service account token only while the objects it is bound to
        (its ServiceAccount, a Pod or Secret) exist with the uids it names, as in Kubernetes."""
        identity = self.tokens.authenticate(token, audiences)
        if identity is None or identity.cluster is None:
            return identity
        for bound in identity.bound_to:
            resource = {"ServiceAccount": "serviceaccounts", "Pod": "pods", "Secret": "secrets"}
            key = self.registry.require("", "v1", resource[bound.kind]).key
            found = self.store.get(ObjectKey(key, identity.cluster, bound.namespace, bound.name))
            if found is None or found["metadata"].get("uid") != bound.uid:
                return None
        return identity

    def _authorize(
        self, identity: Identity, path: ResourcePath | DiscoveryPath | OpenAPIPath
    ) -> None:
        """The rule of :mod:`~.api.authorization`; the self reviews are anyone's to ask."""
        cluster = path.cluster
        if cluster is None:
            return
        resource_type = path.resource_type if isinstance(path, ResourcePath) else None
        self_review = resource_type is not None and (
            (resource_type.group, resource_type.resource) in authorization.SELF_REVIEWS
        )
        refused = None if self_review else authorization.denial(identity, cluster)
        if refused is not None:
            raise APIError(403, refused)
        if cluster != WILDCARD and cluster not in self.clusters:
            raise APIError(404, f'logical cluster "{cluster}" not found', name=cluster)

    # Discovery.

    def _discovery(self, path: DiscoveryPath, accept: str) -> web.Response:
        aggregated = None
        if path.document in ("api", "apis"):
            aggregated = discovery.aggregated_version(accept)
        view = self.registry.view(path.cluster)
        cache_key = (path.document, path.group, path.version, view, aggregated)
        cached = self._discovery_cache.get(cache_key)
        if cached is not None and cached[0] == self.registry.generation:
            body = cached[1]
        elif aggregated is not None:
            core = path.document == "api"
            document = discovery.aggregated_document(self.registry, aggregated, core, view)
            body = orjson.dumps(document)
            self._discovery_cache[cache_key] = (self.registry.generation, body)
        else:
            body = orjson.dumps(self._discovery_document(path))
            self._discovery_cache[cache_key] = (self.registry.generation, body)
        response = web.Response(body=body)
        response.headers["Content-Type"] = (
            "application/json"
            if aggregated is None
            else discovery.aggregated_content_type(aggregated)
        )
        return response

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

    # Resources.

    async def _resource(
        self, request: web.Request, path: ResourcePath, identity: Identity
    ) -> web.StreamResponse:
        resource_type = path.resource_type
        method = request.method
        if path.cluster is None and resource_type.resource == "tokenreviews" and method == "POST":
            check_root_reviewer(identity)
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
        elif method == "POST" and path.subresource is not None:
            verb = "create"
        else:
            verb = _METHOD_VERBS.get(method, "")
        self._check_verb(path, verb, method)
        self.metrics.request(
            verb,
            resource_type.group,
            resource_type.resource,
            path.subresource or "",
            request.content_type == APPLY_PATCH,
        )
        served = subresource_type(resource_type, path.subresource or "")
        has_protobuf = protobuf.supports(served.api_version, served.kind)
        output = negotiate(
            request.headers.get("Accept", ""), query, protobuf=has_protobuf, watch=verb == "watch"
        )
        conversion = CONVERSIONS.get((resource_type.api_version, resource_type.kind))
        if verb == "watch":
            selection = self._selection(resource_type, query)
            convert = conversion[2] if conversion else None
            return await serve_watch(
                request,
                self.api,
                self.fanout,
                path,
                selection,
                output,
                self.bookmark_interval,
                convert,
            )
        if verb == "list":
            return self._list(path, self._selection(resource_type, query), query, output)
        if path.subresource == SCALE and verb in ("get", "update", "patch"):
            return await self._scale(request, path, verb, output)
        if verb == "get":
            return self._object_response(resource_type, self.api.get(path), output)
        if verb in ("create", "update", "patch"):
            return await self._write(request, path, verb, output, identity)
        options = await read_optional_object(request)
        dry_run = is_delete_dry_run(query, options)
        if verb == "delete":
            removed = self.api.delete(path, options, query, dry_run=dry_run)
            answer = delete_answer(
                resource_type.key, resource_type.group, resource_type.resource, removed
            )
            if answer.get("kind") != "Status":
                answer = _served(resource_type, answer)
            return document_response(answer, output)
        selection = self._selection(resource_type, query)
        deleted = self.api.delete_collection(path, selection, options, query, dry_run=dry_run)
        shown = [_served(resource_type, obj) for obj in deleted]
        return document_response(self._list_document(resource_type, shown), output)

    async def _write(
        self,
        request: web.Request,
        path: ResourcePath,
        verb: str,
        output: Output,
        identity: Identity,
    ) -> web.Response:
        """create, update and patch: options, field validation, Warning headers; reviews and
        TokenRequests are answered, not stored."""
        resource_type = subresource_type(path.resource_type, path.subresource or "")
        content_type = request.content_type
        has_protobuf = protobuf.supports(resource_type.api_version, resource_type.kind)
        check_body_type(content_type, has_protobuf=has_protobuf)
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
        body = await (read_json(request) if verb == "patch" else read_object(request))
        warnings = []
        if content_type != JSON_PATCH:
            schema = schema_for(resource_type.api_version, resource_type.kind)
            warnings = check_fields(body, schema, options.field_validation)
        if path.subresource == "token" or not resource_type.stored:
            response = document_response(self._answer(path, body, identity), output, 201)
        elif (resource_type.api_version, resource_type.kind) in CONVERSIONS:
            result, status = self._converted_write(path, verb, content_type, body, options)
            response = self._object_response(resource_type, result, output, status)
        else:
            if verb == "create":
                result, status = self.api.create(path, body, options), 201
            elif verb == "update":
                result, status = self.api.update(path, body, options), 200
            else:
                result, created = self.api.patch_or_create(path, content_type, body, options)
                status = 201 if created else 200
            response = self._object_response(resource_type, result, output, status)
        for warning in warnings:
            response.headers.add("Warning", f'299 - "{_quoted(warning)}"')
        return response

    def _converted_write(
        self,
        path: ResourcePath,
        verb: str,
        content_type: str,
        body: dict[str, Any],
        options: WriteOptions,
    ) -> tuple[dict[str, Any], int]:
        """A write to a type served from another's objects: converted to the stored version,
        written there (a patch applies to the served version's view of the object)."""
        served = path.resource_type
        stored, to_storage, to_served = CONVERSIONS[(served.api_version, served.kind)]
        storage_path = dataclasses.replace(path, resource_type=self.registry.require(*stored))
        if verb == "create":
            return self.api.create(storage_path, to_storage(body), options), 201
        if verb == "patch":
            if content_type == APPLY_PATCH:
                result, created = self.api.apply_converted(
                    path, storage_path, body, options, to_served, to_storage
                )
                return result, 201 if created else 200
            current = _served(served, self.api.get(storage_path))
            body = patch_document(current, content_type, body, served.api_version, served.kind)
            metadata = body.setdefault("metadata", {})
            metadata.setdefault("resourceVersion", current["metadata"].get("resourceVersion"))
        return self.api.update(storage_path, to_storage(body), options), 200

    def _answer(
        self, path: ResourcePath, body: dict[str, Any], identity: Identity
    ) -> dict[str, Any]:
        """What a create of a review or a TokenRequest answers (nothing is stored)."""
        if path.subresource == "token":
            return request_token(self.api, path, body, self.tokens.issue)
        resource = path.resource_type.resource
        if resource == "tokenreviews":
            return review_token(path.cluster, body, self.identify)
        assert path.cluster is not None
        if resource == "selfsubjectreviews":
            return authorization.self_subject_review(identity, path.cluster)
        if resource == "localsubjectaccessreviews":
            namespace = path.namespace or ""
            return authorization.local_subject_access_review(path.cluster, namespace, body)
        answer = {
            "selfsubjectaccessreviews": authorization.self_subject_access_review,
            "subjectaccessreviews": authorization.subject_access_review,
            "selfsubjectrulesreviews": authorization.self_subject_rules_review,
        }[resource]
        return answer(identity, path.cluster, body)

    async def _scale(
        self,
        request: web.Request,
        path: ResourcePath,
        verb: str,
        output: Output,
    ) -> web.Response:
        """The scale subresource: a Scale view of the object; writes change spec.replicas."""
        scale_paths = path.resource_type.scale_paths
        old = self.api.get(path)
        if verb == "get":
            return document_response(to_scale(old, scale_paths), output)
        content_type = request.content_type
        if verb == "patch" and content_type not in (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH):
            raise APIError(415, f"the scale subresource does not take {content_type!r} patches")
        options = parse_write_options(
            request.rel_url.query, user_agent=request.headers.get("User-Agent", "")
        )
        body = await (read_json(request) if verb == "patch" else read_object(request))
        if verb == "patch":
            scale = to_scale(old, scale_paths)
            body = patch_document(scale, content_type, body, SCALE_API_VERSION, SCALE_KIND)
        main = dataclasses.replace(path, subresource=None)
        updated = self.api.update(main, with_scale(old, body, scale_paths), options)
        return document_response(to_scale(updated, scale_paths), output)

    @staticmethod
    def _object_response(
        resource_type: ResourceType,
        obj: dict[str, Any],
        table: Output,
        status: int = 200,
    ) -> web.Response:
        if not isinstance(table, TableFormat):
            return document_response(_served(resource_type, obj), table, status)
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
            allowed = subresource_verbs(path.subresource)
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
                fields=parse_field_selector(
                    fields,
                    resource_type.selectable_fields,
                    FIELD_LABELS.get((resource_type.api_version, resource_type.kind)),
                )
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
        table: Output = None,
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
        resource_type: ResourceType,
        document: dict[str, Any],
        table: Output,
    ) -> web.Response:
        if not isinstance(table, TableFormat):
            if (resource_type.api_version, resource_type.kind) in CONVERSIONS:
                items = [_served(resource_type, item) for item in document["items"]]
                document = {**document, "items": items}
            return document_response(document, table)
        return json_response(
            table.table(
                resource_type.kind,
                document["items"],
                document["metadata"],
                printer_columns=resource_type.printer_columns,
            )
        )


def _served(resource_type: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """A stored object as ``resource_type``'s version shows it (:mod:`~.api.conversion`)."""
    conversion = CONVERSIONS.get((resource_type.api_version, resource_type.kind))
    return obj if conversion is None else conversion[2](obj)


def _quoted(text: str) -> str:
    """Text inside a Warning header's quoted string."""
    return text.replace("\\", "\\\\").replace('"', '\\"')
