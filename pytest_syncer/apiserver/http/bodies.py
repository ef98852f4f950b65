"""Request bodies: size limit, JSON, YAML or protobuf decoding, and the content types the server
takes (protobuf only for a type with a protobuf form: :mod:`protobuf.serving`).

The limit is kube-apiserver's 3 MiB request body maximum (``MaxRequestBodyBytes`` in
``k8s.io/apiserver/pkg/server/config.go``).
"""

from __future__ import annotations

from typing import Any

import orjson
import yaml
from aiohttp import web

from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.object_api import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
)
from pytest_syncer.apiserver.http.protobuf import envelope as protobuf
from pytest_syncer.apiserver.http.protobuf import serving as protobuf_serving

MAX_BODY_BYTES = 3 * 1024 * 1024
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
PROTOBUF = protobuf.MEDIA_TYPE
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)


async def read_json(request: web.Request) -> Any:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise _too_large()
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise _too_large() from None
    if not raw.strip():
        raise APIError(400, "the request body is empty")
    content_type = request.content_type
    if content_type in YAML_TYPES:
        try:
            return yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise APIError(400, f"the request body is not valid YAML: {exc}") from None
    if content_type == PROTOBUF:
        return protobuf_serving.read_body(raw)
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


def check_body_type(content_type: str, *, has_protobuf: bool) -> None:
    """415 for a protobuf body to a type without a protobuf form (a custom resource's), before
    anything else is read, as the real server refuses it."""
    if content_type == PROTOBUF and not has_protobuf:
        raise protobuf_serving.json_only()


async def read_object(request: web.Request) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise APIError(400, "the request body must be a JSON object")
    return body


async def read_optional_object(request: web.Request) -> dict[str, Any] | None:
    """DeleteOptions: an empty body means none."""
    if not request.body_exists or request.content_length == 0:
        return None
    body = await read_json(request)
    if not isinstance(body, dict):
        raise APIError(400, "DeleteOptions must be a JSON object")
    return body


def _too_large() -> APIError:
    return APIError(413, f"the request body is larger than {MAX_BODY_BYTES} bytes")
