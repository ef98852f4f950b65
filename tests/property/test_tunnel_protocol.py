"""The frame codec: every frame type round-trips, and arbitrary bytes never escape as
anything but a ProtocolError."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_syncer.tunnel.protocol import (
    HEADER,
    VERSION,
    Data,
    End,
    ErrorCode,
    Frame,
    FrameDecoder,
    FrameType,
    GoAway,
    Open,
    ProtocolError,
    Reset,
    Response,
    Sync,
    WindowUpdate,
    encode,
    encode_many,
)

stream_ids = st.integers(min_value=1, max_value=0xFFFFFFFF)
short_text = st.text(max_size=40)
no_nul = st.characters(exclude_characters="\0", exclude_categories=["Cs"])
header_lists = st.lists(
    st.tuples(st.text(no_nul, min_size=1, max_size=20), st.text(no_nul, max_size=40)),
    max_size=8,
).map(tuple)
methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])

frames: st.SearchStrategy[Frame] = st.one_of(
    st.builds(Open, stream_ids, methods, short_text, header_lists, st.booleans()),
    st.builds(Response, stream_ids, st.integers(100, 599), header_lists, st.booleans()),
    st.builds(Data, stream_ids, st.binary(max_size=512), st.booleans()),
    st.builds(End, stream_ids),
    st.builds(Reset, stream_ids, st.sampled_from(list(ErrorCode)), short_text),
    st.builds(WindowUpdate, stream_ids, st.integers(1, 0xFFFFFFFF)),
    st.builds(
        Sync,
        st.integers(0, 0xFFFFFFFF),
        st.lists(stream_ids, max_size=50).map(tuple),
    ),
    st.builds(GoAway, short_text),
)


@given(frames)
def test_every_frame_round_trips(frame: Frame) -> None:
    assert FrameDecoder().decode(encode(frame)) == [frame]


@given(st.lists(frames, min_size=1, max_size=20))
def test_a_message_of_many_frames_round_trips(batch: list[Frame]) -> None:
    assert FrameDecoder().decode(encode_many(batch)) == batch


@settings(max_examples=500)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_raise_protocol_error(message: bytes) -> None:
    try:
        decoded = FrameDecoder(max_frame_size=128, max_header_size=64).decode(message)
    except ProtocolError:
        return
    assert encode_many(decoded) == message


@settings(max_examples=500)
@given(
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 0xFFFFFFFF),
    st.binary(max_size=100),
)
def test_well_framed_garbage_payloads_decode_or_raise_protocol_error(
    type_code: int, flags: int, stream_id: int, payload: bytes
) -> None:
    message = HEADER.pack(VERSION, type_code, flags, stream_id, len(payload)) + payload
    try:
        decoded = FrameDecoder().decode(message)
    except ProtocolError:
        return
    assert encode_many(decoded) == message


@given(frames, st.integers(1, 11))
def test_a_truncated_frame_is_a_protocol_error(frame: Frame, cut: int) -> None:
    raw = encode(frame)
    with pytest.raises(ProtocolError):
        FrameDecoder().decode(raw[: max(0, len(raw) - cut)] or b"\x00")


def test_frame_over_the_maximum_size_is_refused_before_its_payload_arrives() -> None:
    header = HEADER.pack(VERSION, FrameType.DATA, 0, 1, 10_000_000)
    with pytest.raises(ProtocolError, match="exceeds the maximum"):
        FrameDecoder(max_frame_size=1024).decode(header)


def test_header_block_over_the_maximum_is_refused() -> None:
    frame = Open(1, "GET", "/api", (("x-big", "v" * 300),))
    with pytest.raises(ProtocolError, match="header block"):
        FrameDecoder(max_header_size=256).decode(encode(frame))


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (b"", "empty"),
        (HEADER.pack(2, FrameType.END, 0, 1, 0), "version"),
        (HEADER.pack(VERSION, 99, 0, 1, 0), "unknown frame type"),
        (HEADER.pack(VERSION, FrameType.END, 0, 0, 0), "stream id 0"),
        (HEADER.pack(VERSION, FrameType.SYNC, 0, 7, 4) + b"\0" * 4, "non-zero"),
        (HEADER.pack(VERSION, FrameType.DATA, 2, 1, 0), "flags"),
        (HEADER.pack(VERSION, FrameType.WINDOW_UPDATE, 0, 1, 4) + b"\0" * 4, "zero"),
        (HEADER.pack(VERSION, FrameType.RESET, 0, 1, 2) + struct.pack("!H", 999), "reset code"),
        (HEADER.pack(VERSION, FrameType.SYNC, 0, 0, 3) + b"\0" * 3, "32-bit"),
        (HEADER.pack(VERSION, FrameType.GOAWAY, 0, 0, 1) + b"\xff", "UTF-8"),
        (HEADER.pack(VERSION, FrameType.END, 0, 1, 1) + b"x", "trailing"),
        (HEADER.pack(VERSION, FrameType.RESPONSE, 0, 1, 4) + b"\0\xc8\0b", "empty header"),
        (HEADER.pack(VERSION, FrameType.RESPONSE, 0, 1, 3) + b"\0\xc8a", "without a value"),
    ],
)
def test_malformed_frames_name_what_is_wrong(message: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        FrameDecoder().decode(message)


def test_encoder_refuses_what_does_not_fit() -> None:
    with pytest.raises(ValueError, match="stream id"):
        encode(End(0))
    with pytest.raises(ValueError, match="NUL"):
        encode(Response(1, 200, (("x", "a\0b"),)))
    with pytest.raises(ValueError, match="empty"):
        encode(Response(1, 200, (("", "v"),)))
    with pytest.raises(ValueError, match="path"):
        encode(Open(1, "GET", "/" * 70_000, ()))
