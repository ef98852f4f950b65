"""JSON documents to protobuf message bytes and back, driven by the field-number data.

A handful of types have a JSON form that is not their message's fields, as Go's custom
marshallers write them: ``Time`` and ``MicroTime`` (RFC 3339 text; seconds and nanos on the
wire), ``Duration`` (Go's duration text; nanoseconds on the wire), ``Quantity`` (its string),
``IntOrString`` (a number or a string; type, intVal, strVal on the wire), ``RawExtension``,
``FieldsV1`` and the CRD schema's ``JSON`` (raw JSON bytes), the CRD schema's ``...OrArray``,
``...OrBool`` and ``...OrStringArray`` unions, and string-list wrappers such as ``ExtraValue``.

JSON keys without a field are dropped, as a real server's protobuf decoding drops them. On the
way back, zero scalars of ``omitempty`` non-pointer fields are left out, because a Go client
writes every non-pointer scalar while its JSON form omits the zero ones.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from pytest_syncer.apiserver.http.protobuf import wire
from pytest_syncer.apiserver.http.protobuf.schema import META, Field, schema

TIME = META + "Time"
MICRO_TIME = META + "MicroTime"
DURATION = META + "Duration"
FIELDS_V1 = META + "FieldsV1"
QUANTITY = "k8s.io.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
RAW_EXTENSION = "k8s.io.apimachinery.pkg.runtime.RawExtension"
_EXTENSIONS = "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1."
RAW_JSON = _EXTENSIONS + "JSON"
PROPS_OR_ARRAY = _EXTENSIONS + "JSONSchemaPropsOrArray"
PROPS_OR_BOOL = _EXTENSIONS + "JSONSchemaPropsOrBool"
PROPS_OR_STRINGS = _EXTENSIONS + "JSONSchemaPropsOrStringArray"
PROPS = _EXTENSIONS + "JSONSchemaProps"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = 1_000_000_000
_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": _SECOND,
    "m": 60 * _SECOND,
    "h": 3600 * _SECOND,
}
_DURATION_PART = re.compile(r"(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)")
_INT_RANGES = {"int32": (-(1 << 31), (1 << 31) - 1), "int64": (-(1 << 63), (1 << 63) - 1)}
#: Zero values a Go client writes for non-pointer scalars; dropped when the JSON omits them.
_ZEROS: dict[str, Any] = {"string": "", "bytes": "", "int32": 0, "int64": 0, "bool": False}


#: The first bytes of every protobuf body (and of an object held in a RawExtension).
MAGIC = b"k8s\x00"


class CodecError(ValueError):
    """A JSON value that its protobuf field cannot hold."""


class UnknownKindError(ValueError):
    """The body names a kind that has no protobuf form here (a custom resource's kind)."""

    def __init__(self, api_version: str, kind: str) -> None:
        super().__init__(f"{kind} in version {api_version!r} has no protobuf form")
        self.api_version = api_version
        self.kind = kind


# Encoding.


def encode(message: str, value: Any) -> bytes:
    """The bytes of ``message`` holding the JSON ``value``."""
    special = _SPECIAL_ENCODERS.get(message)
    if special is not None:
        return special(value)
    if message in schema().wrappers:
        return b"".join(_scalar(1, "string", item) for item in _list_of(value, message))
    if not isinstance(value, Mapping):
        raise CodecError(f"{message.rsplit('.', 1)[-1]} must be an object, not {value!r}")
    out = bytearray()
    for field in schema().messages[message]:
        if field.inline:
            out += wire.field_bytes(field.number, encode(field.type, value))
            continue
        item = value.get(field.json_name)
        if item is None:
            continue
        if field.map:
            if not isinstance(item, Mapping):
                raise CodecError(f"{field.json_name} must be an object")
            for entry_key, entry_value in item.items():
                entry = wire.field_bytes(1, str(entry_key).encode())
                if entry_value is not None:
                    entry += _single(2, field.type, entry_value)
                out += wire.field_bytes(field.number, entry)
        elif field.repeated:
            for element in _list_of(item, field.json_name):
                out += _single(field.number, field.type, element)
        else:
            out += _single(field.number, field.type, item)
    return bytes(out)


def _list_of(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise CodecError(f"{what} must be a list, not {value!r}")
    return value


def _single(number: int, type_: str, value: Any) -> bytes:
    if type_ in _ZEROS or type_ == "double":
        return _scalar(number, type_, value)
    return wire.field_bytes(number, encode(type_, value))


def _scalar(number: int, type_: str, value: Any) -> bytes:
    if type_ == "string":
        if not isinstance(value, str):
            raise CodecError(f"expected a string, not {value!r}")
        return wire.field_bytes(number, value.encode())
    if type_ == "bool":
        if not isinstance(value, bool):
            raise CodecError(f"expected a boolean, not {value!r}")
        return wire.field_varint(number, int(value))
    if type_ == "bytes":
        try:
            return wire.field_bytes(number, base64.b64decode(value, validate=True))
        except (binascii.Error, TypeError, ValueError):
            raise CodecError(f"expected base64 text, not {value!r}") from None
    if type_ == "double":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise CodecError(f"expected a number, not {value!r}")
        return wire.field_double(number, float(value))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    low, high = _INT_RANGES[type_]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise CodecError(f"expected an {type_}, not {value!r}")
    return wire.field_varint(number, value)


def parse_time(text: Any) -> datetime:
    if not isinstance(text, str):
        raise CodecError(f"expected an RFC 3339 time, not {text!r}")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CodecError(f"expected an RFC 3339 time, not {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _encode_time(text: Any) -> bytes:
    moment = parse_time(text)
    seconds = (moment - EPOCH) // timedelta(seconds=1)
    return wire.field_varint(1, seconds) + wire.field_varint(2, moment.microsecond * 1000)


def parse_duration(text: Any) -> int:
    """Go's ``time.ParseDuration``: nanoseconds of text such as ``1h30m`` or ``-1.5s``."""
    if not isinstance(text, str) or not text:
        raise CodecError(f"expected a duration, not {text!r}")
    sign, body = (-1, text[1:]) if text[0] == "-" else (1, text.lstrip("+"))
    if body == "0":
        return 0
    total = Decimal(0)
    position = 0
    for match in _DURATION_PART.finditer(body):
        if match.start() != position or match.group(1) in ("", "."):
            break
        try:
            total += Decimal(match.group(1)) * _UNITS[match.group(2)]
        except InvalidOperation:
            break
        position = match.end()
    if position != len(body) or not body:
        raise CodecError(f"expected a duration, not {text!r}")
    return sign * int(total)


def _encode_duration(text: Any) -> bytes:
    return wire.field_varint(1, parse_duration(text))


def _encode_quantity(value: Any) -> bytes:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise CodecError(f"expected a quantity, not {value!r}")
    return wire.field_bytes(1, str(value).encode())


def _encode_int_or_string(value: Any) -> bytes:
    if isinstance(value, str):
        return (
            wire.field_varint(1, 1) + wire.field_varint(2, 0) + wire.field_bytes(3, value.encode())
        )
    return wire.field_varint(1, 0) + _scalar(2, "int32", value) + wire.field_bytes(3, b"")


def _encode_raw_json(value: Any) -> bytes:
    return wire.field_bytes(1, orjson.dumps(value))


def _encode_props_or_array(value: Any) -> bytes:
    if isinstance(value, list):
        return b"".join(wire.field_bytes(2, encode(PROPS, item)) for item in value)
    return wire.field_bytes(1, encode(PROPS, value))


def _encode_props_or_bool(value: Any) -> bytes:
    if isinstance(value, bool):
        return wire.field_varint(1, int(value))
    return wire.field_varint(1, 1) + wire.field_bytes(2, encode(PROPS, value))


def _encode_props_or_strings(value: Any) -> bytes:
    if isinstance(value, list):
        return b"".join(_scalar(2, "string", item) for item in value)
    return wire.field_bytes(1, encode(PROPS, value))


_SPECIAL_ENCODERS: dict[str, Callable[[Any], bytes]] = {
    TIME: _encode_time,
    MICRO_TIME: _encode_time,
    DURATION: _encode_duration,
    QUANTITY: _encode_quantity,
    INT_OR_STRING: _encode_int_or_string,
    RAW_EXTENSION: _encode_raw_json,
    FIELDS_V1: _encode_raw_json,
    RAW_JSON: _encode_raw_json,
    PROPS_OR_ARRAY: _encode_props_or_array,
    PROPS_OR_BOOL: _encode_props_or_bool,
    PROPS_OR_STRINGS: _encode_props_or_strings,
}


# Decoding.


def decode(message: str, data: bytes) -> Any:
    """The JSON value of ``message`` encoded in ``data``."""
    special = _SPECIAL_DECODERS.get(message)
    if special is not None:
        return special(data)
    if message in schema().wrappers:
        return [_decode_scalar("string", w, v) for n, w, v in wire.fields(data) if n == 1]
    by_number = schema().by_number[message]
    out: dict[str, Any] = {}
    for number, wire_type, raw in wire.fields(data):
        field = by_number.get(number)
        if field is None:
            continue
        if field.map:
            entry_key, entry_value = _map_entry(field, _length(raw))
            out.setdefault(field.json_name, {})[entry_key] = entry_value
        elif field.inline:
            out.update(decode(field.type, _length(raw)))
        elif field.repeated:
            out.setdefault(field.json_name, []).extend(_repeated(field, wire_type, raw))
        else:
            out[field.json_name] = _decode_single(field.type, wire_type, raw)
    for field in schema().messages[message]:
        zero = _ZEROS.get(field.type)
        if zero is None or not field.omitempty or field.pointer or field.repeated or field.map:
            continue
        value = out.get(field.json_name)
        if type(value) is type(zero) and value == zero:
            del out[field.json_name]
    return out


def _length(raw: int | bytes) -> bytes:
    if not isinstance(raw, bytes):
        raise wire.WireError("expected a length-delimited field")
    return raw


def _map_entry(field: Field, data: bytes) -> tuple[str, Any]:
    entry_key = ""
    entry_value: Any = None
    for number, wire_type, raw in wire.fields(data):
        if number == 1:
            entry_key = _decode_scalar("string", wire_type, raw)
        elif number == 2:
            entry_value = _decode_single(field.type, wire_type, raw)
    if entry_value is None:
        entry_value = _ZEROS.get(field.type, 0.0 if field.type == "double" else None)
        if entry_value is None:
            entry_value = decode(field.type, b"")
    return entry_key, entry_value


def _repeated(field: Field, wire_type: int, raw: int | bytes) -> list[Any]:
    packed = field.type in ("int32", "int64", "bool", "double") and wire_type == wire.LENGTH
    if not packed:
        return [_decode_single(field.type, wire_type, raw)]
    data = _length(raw)
    values = []
    offset = 0
    while offset < len(data):
        if field.type == "double":
            values.append(wire.as_double(int.from_bytes(data[offset : offset + 8], "little")))
            offset += 8
        else:
            number, offset = wire.read_varint(data, offset)
            values.append(_decode_scalar(field.type, wire.VARINT, number))
    return values


def _decode_single(type_: str, wire_type: int, raw: int | bytes) -> Any:
    if type_ in _ZEROS or type_ == "double":
        return _decode_scalar(type_, wire_type, raw)
    return decode(type_, _length(raw))


def _decode_scalar(type_: str, wire_type: int, raw: int | bytes) -> Any:
    if type_ in ("string", "bytes"):
        data = _length(raw)
        if type_ == "bytes":
            return base64.b64encode(data).decode()
        return data.decode("utf-8", errors="replace")
    if isinstance(raw, bytes):
        raise wire.WireError(f"expected a {type_}, found a length-delimited field")
    if type_ == "double":
        if wire_type != wire.FIXED64:
            raise wire.WireError("expected a double")
        return wire.as_double(raw)
    if type_ == "bool":
        return raw != 0
    value = wire.signed(raw)
    return value if type_ == "int64" else (value + (1 << 31)) % (1 << 32) - (1 << 31)


def _numbers(data: bytes) -> dict[int, int | bytes]:
    """The last value of each field, for the small fixed messages below."""
    return {number: raw for number, _, raw in wire.fields(data)}


def format_time(moment: datetime, *, micro: bool = False) -> str:
    """Go's RFC 3339 text of a ``Time`` (seconds) or ``MicroTime`` (microseconds), in UTC."""
    moment = moment.astimezone(UTC)
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    return text + (f".{moment.microsecond:06d}Z" if micro else "Z")


def _decode_time(data: bytes, *, micro: bool = False) -> str | None:
    if not data:
        return None  # Go writes the zero time as an empty message; its JSON is null.
    values = _numbers(data)
    seconds = wire.signed(int(values.get(1, 0)))
    nanos = wire.signed(int(values.get(2, 0))) if micro else 0
    try:
        moment = EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)
    except OverflowError:
        raise wire.WireError(f"a time {seconds} seconds from 1970 is out of range") from None
    return format_time(moment, micro=micro)


def _decode_micro_time(data: bytes) -> str | None:
    return _decode_time(data, micro=True)


def format_duration(nanoseconds: int) -> str:
    """Go's ``time.Duration.String``: ``1h0m0s``, ``1.5s``, ``300ms``, ``0s``."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    left = abs(nanoseconds)
    if left < _SECOND:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if left >= size:
                return sign + _fraction(left, size) + unit
    text = _fraction(left % (60 * _SECOND), _SECOND) + "s"
    minutes = left // (60 * _SECOND)
    if minutes:
        text = f"{minutes % 60}m" + text
        if minutes >= 60:
            text = f"{minutes // 60}h" + text
    return sign + text


def _fraction(value: int, size: int) -> str:
    whole, part = divmod(value, size)
    if not part:
        return str(whole)
    digits = str(part).rjust(len(str(size)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


def _decode_duration(data: bytes) -> str:
    return format_duration(wire.signed(int(_numbers(data).get(1, 0))))


def _decode_quantity(data: bytes) -> str:
    return str(_decode_scalar("string", wire.LENGTH, _numbers(data).get(1, b"")))


def _decode_int_or_string(data: bytes) -> int | str:
    values = _numbers(data)
    if values.get(1, 0) == 1:
        return str(_decode_scalar("string", wire.LENGTH, values.get(3, b"")))
    return int(_decode_scalar("int32", wire.VARINT, values.get(2, 0)))


def _decode_raw_json(data: bytes) -> Any:
    raw = _length(_numbers(data).get(1, b""))
    if raw.startswith(MAGIC):
        return decode_object(raw)
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        raise wire.WireError("a raw JSON field does not hold JSON") from None


def _decode_props_or_array(data: bytes) -> Any:
    items = [decode(PROPS, _length(raw)) for number, _, raw in wire.fields(data) if number == 2]
    if items:
        return items
    schema_bytes = _numbers(data).get(1)
    return None if schema_bytes is None else decode(PROPS, _length(schema_bytes))


def _decode_props_or_bool(data: bytes) -> Any:
    values = _numbers(data)
    if 2 in values:
        return decode(PROPS, _length(values[2]))
    return values.get(1, 0) != 0


def _decode_props_or_strings(data: bytes) -> Any:
    strings = [
        _decode_scalar("string", w, raw) for number, w, raw in wire.fields(data) if number == 2
    ]
    if strings:
        return strings
    schema_bytes = _numbers(data).get(1)
    return None if schema_bytes is None else decode(PROPS, _length(schema_bytes))


_SPECIAL_DECODERS: dict[str, Callable[[bytes], Any]] = {
    TIME: _decode_time,
    MICRO_TIME: _decode_micro_time,
    DURATION: _decode_duration,
    QUANTITY: _decode_quantity,
    INT_OR_STRING: _decode_int_or_string,
    RAW_EXTENSION: _decode_raw_json,
    FIELDS_V1: _decode_raw_json,
    RAW_JSON: _decode_raw_json,
    PROPS_OR_ARRAY: _decode_props_or_array,
    PROPS_OR_BOOL: _decode_props_or_bool,
    PROPS_OR_STRINGS: _decode_props_or_strings,
}


# The runtime.Unknown envelope, read here because a RawExtension may hold an enveloped object
# (the envelope module writes it, and re-exports this).


def decode_object(data: bytes) -> dict[str, Any]:
    """A protobuf body as the JSON document it stands for, with its apiVersion and kind."""
    if not data.startswith(MAGIC):
        raise wire.WireError("the body does not start with the protobuf magic bytes k8s\\x00")
    api_version = kind = ""
    raw = b""
    for number, _, value in wire.fields(data[len(MAGIC) :]):
        if number == 1 and isinstance(value, bytes):
            for meta_number, _, meta_value in wire.fields(value):
                if isinstance(meta_value, bytes) and meta_number in (1, 2):
                    text = meta_value.decode("utf-8", errors="replace")
                    api_version, kind = (text, kind) if meta_number == 1 else (api_version, text)
        elif number == 2 and isinstance(value, bytes):
            raw = value
    if not kind:
        raise wire.WireError("the body's runtime.Unknown names no kind")
    message = schema().message_of(api_version, kind)
    if message is None:
        raise UnknownKindError(api_version, kind)
    return {"kind": kind, "apiVersion": api_version, **decode(message, raw)}
