"""The ``k8s\\x00`` + ``runtime.Unknown`` envelope of every protobuf body, and watch frames.

A protobuf request or response body is the four magic bytes followed by a ``runtime.Unknown``
(typeMeta apiVersion/kind, raw message bytes, contentEncoding, contentType). A protobuf watch
stream is a sequence of frames, each a 4-byte big-endian length and a ``metav1.WatchEvent``
without the envelope, whose ``object`` RawExtension holds the object with its envelope
(apimachinery's RawSerializer and LengthDelimitedFramer). Reading an envelope
(:func:`decode_object`) lives in :mod:`codec`, since a RawExtension may hold one; it is
re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pytest_syncer.apiserver.http.protobuf import wire
from pytest_syncer.apiserver.http.protobuf.codec import (
    MAGIC,
    CodecError,
    UnknownKindError,
    decode,
    decode_object,
    encode,
)
from pytest_syncer.apiserver.http.protobuf.schema import META, schema

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
WATCH_MEDIA_TYPE = f"{MEDIA_TYPE};stream=watch"
_WATCH_EVENT = META + "WatchEvent"


def supports(api_version: str, kind: str) -> bool:
    """Whether objects of ``kind`` in ``api_version`` travel as protobuf."""
    return schema().message_of(api_version, kind) is not None


def encode_object(document: Mapping[str, Any]) -> bytes:
    """An object, list or Status as a protobuf body; its apiVersion and kind pick the message."""
    api_version = str(document.get("apiVersion") or "")
    kind = str(document.get("kind") or "")
    message = schema().message_of(api_version, kind)
    if message is None:
        raise UnknownKindError(api_version, kind)
    type_meta = wire.field_bytes(1, api_version.encode()) + wire.field_bytes(2, kind.encode())
    unknown = (
        wire.field_bytes(1, type_meta)
        + wire.field_bytes(2, encode(message, document))
        + wire.field_bytes(3, b"")
        + wire.field_bytes(4, b"")
    )
    return MAGIC + unknown


def watch_frame(event_type: str, obj: Mapping[str, Any]) -> bytes:
    """One length-prefixed ``WatchEvent`` frame of a protobuf watch stream."""
    event = encode(_WATCH_EVENT, {"type": event_type, "object": None}) + wire.field_bytes(
        2, wire.field_bytes(1, encode_object(obj))
    )
    return len(event).to_bytes(4, "big") + event


def read_watch_frames(data: bytes) -> Iterator[tuple[str, dict[str, Any]]]:
    """(type, object) of each frame in ``data``, as a protobuf watch client reads them."""
    offset = 0
    while offset < len(data):
        if offset + 4 > len(data):
            raise wire.WireError("truncated watch frame length")
        size = int.from_bytes(data[offset : offset + 4], "big")
        frame = data[offset + 4 : offset + 4 + size]
        if len(frame) != size:
            raise wire.WireError("truncated watch frame")
        offset += 4 + size
        event = decode(_WATCH_EVENT, frame)
        obj = event.get("object")
        if not isinstance(obj, dict):
            raise wire.WireError("a watch event without an object")
        yield str(event.get("type", "")), obj


__all__ = [
    "MAGIC",
    "MEDIA_TYPE",
    "WATCH_MEDIA_TYPE",
    "CodecError",
    "UnknownKindError",
    "decode_object",
    "encode_object",
    "read_watch_frames",
    "supports",
    "watch_frame",
]
