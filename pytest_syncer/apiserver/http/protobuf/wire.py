"""The protobuf wire format: varints, field keys, length-delimited fields, and reading them back.

Shared by the Kubernetes object codec and the gnostic OpenAPI v2 encoder; nothing here knows
about messages, only about the bytes of fields.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

VARINT = 0
FIXED64 = 1
LENGTH = 2
FIXED32 = 5
_UINT64 = 1 << 64


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def varint(value: int) -> bytes:
    """An integer as a protobuf varint; negative numbers take ten bytes (two's complement)."""
    if value < 0:
        value += _UINT64
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def key(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def field_bytes(number: int, payload: bytes) -> bytes:
    """A length-delimited field (string, bytes or embedded message)."""
    return key(number, LENGTH) + varint(len(payload)) + payload


def field_string(number: int, text: str) -> bytes:
    """A string field, left out when empty (proto3-style, as gnostic writes)."""
    return field_bytes(number, text.encode()) if text else b""


def field_bool(number: int, value: bool) -> bytes:
    """A bool field, left out when false."""
    return key(number, VARINT) + b"\x01" if value else b""


def field_varint(number: int, value: int) -> bytes:
    return key(number, VARINT) + varint(value)


def field_double(number: int, value: float) -> bytes:
    return key(number, FIXED64) + struct.pack("<d", value)


def read_varint(data: bytes, offset: int) -> tuple[int, int]:
    """The varint at ``offset`` and the offset after it."""
    result = shift = 0
    while True:
        if offset >= len(data):
            raise WireError("truncated varint")
        byte = data[offset]
        offset += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, offset
        shift += 7
        if shift >= 70:
            raise WireError("varint too long")


def signed(value: int) -> int:
    """A varint read back as the signed 64-bit integer it encodes (int32 and int64 fields)."""
    value &= _UINT64 - 1
    return value - _UINT64 if value >= 1 << 63 else value


def fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(number, wire type, value) of each field: an int for varints and fixed fields, else bytes."""
    offset = 0
    end = len(data)
    while offset < end:
        tag, offset = read_varint(data, offset)
        number, wire_type = tag >> 3, tag & 7
        value: int | bytes
        if wire_type == VARINT:
            value, offset = read_varint(data, offset)
        elif wire_type == LENGTH:
            size, offset = read_varint(data, offset)
            if offset + size > end:
                raise WireError("truncated length-delimited field")
            value = data[offset : offset + size]
            offset += size
        elif wire_type == FIXED64:
            if offset + 8 > end:
                raise WireError("truncated fixed64 field")
            value = int.from_bytes(data[offset : offset + 8], "little")
            offset += 8
        elif wire_type == FIXED32:
            if offset + 4 > end:
                raise WireError("truncated fixed32 field")
            value = int.from_bytes(data[offset : offset + 4], "little")
            offset += 4
        else:
            raise WireError(f"unsupported wire type {wire_type}")
        if number == 0:
            raise WireError("field number 0")
        yield number, wire_type, value


def as_double(value: int) -> float:
    """A fixed64 field's bits as the double they hold."""
    return float(struct.unpack("<d", value.to_bytes(8, "little"))[0])
