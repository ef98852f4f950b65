"""What the HTTP layer calls: protobuf request bodies in, protobuf responses and errors out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.http.negotiation import ProtobufFormat, negotiate
from pytest_syncer.apiserver.http.protobuf.envelope import (
    MEDIA_TYPE,
    UnknownKindError,
    decode_object,
    encode_object,
)
from pytest_syncer.apiserver.http.protobuf.wire import WireError

#: What a JSON-only type (a custom resource's) accepts, as the real server lists it.
JSON_ONLY = "application/json, application/yaml"


def json_only() -> APIError:
    """The 415 for a protobuf body to a type without a protobuf form (a custom resource)."""
    return APIError(
        415,
        f"the body of the request was in an unknown format - accepted media types include: "
        f"{JSON_ONLY}",
    )


def read_body(raw: bytes) -> dict[str, Any]:
    """A protobuf request body as its JSON document: 415 for a kind without a protobuf form,
    400 for bytes that are not a protobuf object."""
    try:
        return decode_object(raw)
    except UnknownKindError:
        raise json_only() from None
    except (WireError, ValueError) as exc:
        raise APIError(400, f"the protobuf body could not be decoded: {exc}") from None


def response(document: Mapping[str, Any], status: int = 200) -> web.Response:
    return web.Response(body=encode_object(document), status=status, content_type=MEDIA_TYPE)


def prefers_protobuf(accept: str) -> bool:
    """Whether an error is answered in protobuf: the real server encodes a Status for any
    client whose Accept picks protobuf (a 406 from negotiation itself stays JSON)."""
    try:
        return isinstance(negotiate(accept, {}, protobuf=True), ProtobufFormat)
    except APIError:
        return False
