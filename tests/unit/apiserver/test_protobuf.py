"""The protobuf codec: round trips for every kind, and the bytes Kubernetes clients write."""

from __future__ import annotations

import base64
import functools
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_syncer.apiserver.http.protobuf import codec, wire
from pytest_syncer.apiserver.http.protobuf.envelope import (
    MAGIC,
    UnknownKindError,
    decode_object,
    encode_object,
    read_watch_frames,
    watch_frame,
)
from pytest_syncer.apiserver.http.protobuf.schema import Field, schema

#: Nesting beyond this many messages is drawn as ``{}``, so examples stay small.
MAX_DEPTH = 6
texts = st.text(st.characters(codec="utf-8"), max_size=6)
names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=6)
json_scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=6,
)
json_objects = st.dictionaries(texts, json_values, max_size=3)
fields_v1: st.SearchStrategy[dict[str, Any]] = st.recursive(
    st.just({}), lambda inner: st.dictionaries(names, inner, min_size=1, max_size=2), max_leaves=4
)
times = st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31)).map(
    lambda moment: moment.replace(tzinfo=UTC)
)
SPECIAL: dict[str, st.SearchStrategy[Any]] = {
    codec.TIME: times.map(codec.format_time),
    codec.MICRO_TIME: times.map(lambda moment: codec.format_time(moment, micro=True)),
    codec.DURATION: st.integers(-(2**63), 2**63 - 1).map(codec.format_duration),
    codec.QUANTITY: st.one_of(st.sampled_from(["1", "100m", "1Gi", "0.5", "2e3"]), texts),
    codec.INT_OR_STRING: st.one_of(st.integers(-(2**31), 2**31 - 1), texts),
    codec.RAW_EXTENSION: json_objects,
    codec.FIELDS_V1: fields_v1,
    codec.RAW_JSON: json_values,
}


def _scalar(field: Field) -> st.SearchStrategy[Any]:
    """A field's values; an omitempty non-pointer scalar is never zero (JSON leaves zero out)."""
    nonzero = field.omitempty and not field.pointer and not field.repeated and not field.map
    if field.type == "string":
        return names if nonzero else texts
    if field.type == "bool":
        return st.just(True) if nonzero else st.booleans()
    if field.type == "bytes":
        return st.binary(min_size=int(nonzero), max_size=6).map(
            lambda raw: base64.b64encode(raw).decode()
        )
    if field.type == "double":
        return st.floats(allow_nan=False, allow_infinity=False)
    bits = 31 if field.type == "int32" else 63
    values = st.integers(-(2**bits), 2**bits - 1)
    return values.filter(bool) if nonzero else values


@functools.cache
def document(message: str, depth: int = 0) -> st.SearchStrategy[Any]:
    """JSON documents of ``message`` in their canonical form (what decoding gives back)."""
    if message in SPECIAL:
        return SPECIAL[message]
    if message in schema().wrappers:
        return st.lists(texts, max_size=2)
    if message in (codec.PROPS_OR_ARRAY, codec.PROPS_OR_STRINGS, codec.PROPS_OR_BOOL):
        props = document(codec.PROPS, depth + 1)
        other = {
            codec.PROPS_OR_ARRAY: st.lists(props, min_size=1, max_size=2),
            codec.PROPS_OR_STRINGS: st.lists(texts, min_size=1, max_size=2),
            codec.PROPS_OR_BOOL: st.booleans(),
        }[message]
        return st.one_of(props, other)
    if depth > MAX_DEPTH:
        return st.just({})
    optional: dict[str, st.SearchStrategy[Any]] = {}
    inlined = []
    for field in schema().messages[message]:
        value = _scalar(field) if field.scalar else document(field.type, depth + 1)
        if field.inline:
            inlined.append(value)
        elif field.map:
            optional[field.json_name] = st.dictionaries(texts, value, min_size=1, max_size=2)
        elif field.repeated:
            optional[field.json_name] = st.lists(value, min_size=1, max_size=2)
        else:
            optional[field.json_name] = value
    own = st.fixed_dictionaries({}, optional=optional)
    return st.tuples(own, *inlined).map(lambda parts: {k: v for p in parts for k, v in p.items()})


def _kind_document(api_version_kind: str) -> st.SearchStrategy[dict[str, Any]]:
    api_version, kind = api_version_kind.rsplit("/", 1)
    message = schema().kinds[api_version_kind]
    return document(message).map(lambda body: {"kind": kind, "apiVersion": api_version, **body})


@pytest.mark.parametrize("api_version_kind", sorted(schema().kinds))
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_kind_round_trips(api_version_kind: str, data: st.DataObject) -> None:
    obj = data.draw(_kind_document(api_version_kind))
    encoded = encode_object(obj)
    assert encoded.startswith(MAGIC)
    assert decode_object(encoded) == obj


SPECIAL_MESSAGES = sorted(
    {
        *SPECIAL,
        *schema().wrappers,
        codec.PROPS_OR_ARRAY,
        codec.PROPS_OR_BOOL,
        codec.PROPS_OR_STRINGS,
    }
)


@pytest.mark.parametrize("message", SPECIAL_MESSAGES, ids=lambda m: m.rsplit(".", 1)[-1])
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_types_with_their_own_json_form_round_trip(message: str, data: st.DataObject) -> None:
    value = data.draw(document(message, MAX_DEPTH - 1))
    assert codec.decode(message, codec.encode(message, value)) == value


@settings(max_examples=50, deadline=None)
@given(st.integers(-(2**63), 2**63 - 1))
def test_durations_read_back_as_go_writes_them(nanoseconds: int) -> None:
    assert codec.parse_duration(codec.format_duration(nanoseconds)) == nanoseconds


@pytest.mark.parametrize(
    ("nanoseconds", "text"),
    [
        (0, "0s"),
        (3600 * 10**9, "1h0m0s"),
        (61 * 10**9, "1m1s"),
        (1_500_000_000, "1.5s"),
        (300_000_000, "300ms"),
        (-2_000, "-2µs"),
        (7, "7ns"),
    ],
)
def test_durations_are_go_text(nanoseconds: int, text: str) -> None:
    assert codec.format_duration(nanoseconds) == text


#: ``kubectl.1.32 create namespace shop``'s request body, as its ``-v=8`` log shows it.
KUBECTL_NAMESPACE = bytes.fromhex(
    "6b387300 0a0f0a02 76311209 4e616d65 73706163 65121c0a 140a0473 686f7012"
    "001a0022 002a0032 00380042 0012001a 020a001a 002200"
)


def test_kubectl_namespace_body_reads_as_its_dry_run_json() -> None:
    # What ``kubectl create namespace shop --dry-run=client -o json`` prints.
    assert decode_object(KUBECTL_NAMESPACE) == {
        "kind": "Namespace",
        "apiVersion": "v1",
        "metadata": {"name": "shop", "creationTimestamp": None},
        "spec": {},
        "status": {},
    }


def test_the_envelope_is_magic_then_runtime_unknown() -> None:
    encoded = encode_object({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}})
    unknown = {number: value for number, _, value in wire.fields(encoded[len(MAGIC) :])}
    assert unknown[1] == wire.field_bytes(1, b"v1") + wire.field_bytes(2, b"ConfigMap")
    assert unknown[2] == wire.field_bytes(2, wire.field_bytes(1, b"a") + wire.field_bytes(2, b"b"))
    assert (unknown[3], unknown[4]) == (b"", b"")


def test_unknown_json_fields_are_dropped() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}, "colour": "red"}
    assert decode_object(encode_object(obj)) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "data": {"a": "b"},
    }


def test_kinds_without_a_protobuf_form_are_refused() -> None:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "spec": {}}
    with pytest.raises(UnknownKindError):
        encode_object(widget)
    body = MAGIC + wire.field_bytes(
        1, wire.field_bytes(1, b"example.com/v1") + wire.field_bytes(2, b"Widget")
    )
    with pytest.raises(UnknownKindError):
        decode_object(body)


def test_watch_frames_are_length_prefixed_big_endian() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "resourceVersion": "3"}}
    frame = watch_frame("ADDED", pod)
    assert int.from_bytes(frame[:4], "big") == len(frame) - 4
    event = {number: value for number, _, value in wire.fields(frame[4:])}
    assert event[1] == b"ADDED"
    assert event[2] == wire.field_bytes(1, encode_object(pod))
    assert list(read_watch_frames(frame + frame)) == [("ADDED", pod), ("ADDED", pod)]


def test_go_writes_zero_scalars_and_packed_or_negative_numbers() -> None:
    # A Go client writes every non-pointer scalar; JSON omits the omitempty ones, keeps the rest.
    port = wire.field_bytes(1, b"") + wire.field_varint(3, 80) + wire.field_bytes(6, b"")
    assert codec.decode("k8s.io.api.core.v1.ContainerPort", port) == {"containerPort": 80}
    # Negative int64s take ten bytes; a packed repeated field reads as the unpacked one.
    groups = wire.varint(-1) + wire.varint(5)
    context = wire.field_bytes(4, groups) + wire.field_varint(2, -7)
    assert codec.decode("k8s.io.api.core.v1.PodSecurityContext", context) == {
        "runAsUser": -7,
        "supplementalGroups": [-1, 5],
    }
    assert len(wire.varint(-1)) == 10
