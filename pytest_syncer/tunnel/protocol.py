"""The tunnel's binary frame codec, carried in websocket binary messages.

One websocket message holds one or more frames back to back, so a busy tunnel sends a few
large messages instead of many small ones. Every frame starts with a fixed 12-byte header::

    version u8 | type u8 | flags u8 | reserved u8 (0) | stream id u32 | payload length u32

all big-endian. Stream frames carry a non-zero stream id; connection frames (SYNC, GOAWAY)
carry 0. Decoding never trusts a length: frames over ``max_frame_size`` and request or
response heads over ``max_header_size`` raise :class:`ProtocolError`, as does anything else
that is not a well-formed frame, so a peer sending garbage costs one closed tunnel, never a
crash or a hang.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, IntFlag

VERSION = 1
HEADER = struct.Struct("!BBBxII")
HEADER_SIZE = HEADER.size
#: Flow-control credit each side grants per stream when the stream opens.
INITIAL_WINDOW = 256 * 1024
#: Largest DATA payload a sender puts in one frame.
MAX_DATA_CHUNK = 64 * 1024
DEFAULT_MAX_FRAME_SIZE = 1024 * 1024
DEFAULT_MAX_HEADER_SIZE = 64 * 1024
MAX_STREAM_ID = 0xFFFFFFFF

_U8 = struct.Struct("!B")
_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")
_RESET = struct.Struct("!H")


class FrameType(IntEnum):
    OPEN = 1
    RESPONSE = 2
    DATA = 3
    END = 4
    RESET = 5
    WINDOW_UPDATE = 6
    SYNC = 7
    GOAWAY = 8


class Flags(IntFlag):
    NONE = 0
    #: The sender will send nothing more on this stream (allowed on OPEN, RESPONSE, DATA).
    END_STREAM = 1


class ErrorCode(IntEnum):
    """Why a stream was reset; the reason text adds detail for people."""

    PROTOCOL = 1
    FLOW_CONTROL = 2
    REFUSED = 3
    DOWNSTREAM_UNAVAILABLE = 4
    CANCELLED = 5
    ORPHANED = 6
    INTERNAL = 7
    TIMEOUT = 8
    CONNECTION_LOST = 9


class ProtocolError(Exception):
    """The bytes received are not a valid frame sequence; the tunnel cannot go on."""


Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Open:
    """Opens a stream with the request head; the opener allocates ids in ascending order."""

    stream_id: int
    method: str
    path: str
    headers: Headers
    end_stream: bool = False


@dataclass(frozen=True, slots=True)
class Response:
    """The response head, sent back on the stream the request opened."""

    stream_id: int
    status: int
    headers: Headers
    end_stream: bool = False


@dataclass(frozen=True, slots=True)
class Data:
    stream_id: int
    data: bytes
    end_stream: bool = False


@dataclass(frozen=True, slots=True)
class End:
    """The sender's half of the stream is complete."""

    stream_id: int


@dataclass(frozen=True, slots=True)
class Reset:
    """Abort the stream in both directions."""

    stream_id: int
    code: ErrorCode
    reason: str = ""


@dataclass(frozen=True, slots=True)
class WindowUpdate:
    """Grants the peer ``increment`` more bytes of DATA on the stream."""

    stream_id: int
    increment: int


@dataclass(frozen=True, slots=True)
class Sync:
    """The sender's live stream ids; the receiver drops its streams at or below ``high_water``
    that the sender no longer knows (ids are allocated in ascending order, so a stream above the
    high-water mark may simply not have reached the sender yet)."""

    high_water: int
    live: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class GoAway:
    """The sender opens or accepts no new streams; live ones may finish."""

    reason: str = ""


Frame = Open | Response | Data | End | Reset | WindowUpdate | Sync | GoAway


def _header(frame_type: FrameType, flags: int, stream_id: int, payload_length: int) -> bytes:
    return HEADER.pack(VERSION, frame_type, flags, stream_id, payload_length)


def _short(size: int, what: str) -> bytes:
    if size > 0xFFFF:
        raise ValueError(f"{what} of {size} does not fit a frame")
    return _U16.pack(size)


def _encode_headers(parts: list[bytes], headers: Headers) -> None:
    """Headers as one block, ``name NUL value NUL ...``: one join to encode, one split to
    decode. HTTP forbids NUL in names and values, so it cannot be ambiguous."""
    flat: list[str] = []
    for name, value in headers:
        if not name or "\0" in name or "\0" in value:
            raise ValueError(f"header {name!r} is empty or holds a NUL character")
        flat.append(name)
        flat.append(value)
    if flat:
        parts.append("\0".join(flat).encode())


def _check_stream_id(stream_id: int) -> None:
    if not 0 < stream_id <= MAX_STREAM_ID:
        raise ValueError(f"stream id {stream_id} is outside 1..{MAX_STREAM_ID}")


def encode(frame: Frame) -> bytes:
    """One frame as bytes; :func:`encode_many` joins several into one websocket message."""
    if isinstance(frame, Data):
        _check_stream_id(frame.stream_id)
        flags = Flags.END_STREAM if frame.end_stream else 0
        return _header(FrameType.DATA, flags, frame.stream_id, len(frame.data)) + frame.data
    if isinstance(frame, Open):
        _check_stream_id(frame.stream_id)
        method = frame.method.encode()
        path = frame.path.encode()
        if not 0 < len(method) <= 0xFF:
            raise ValueError(f"method {frame.method!r} does not fit a frame")
        parts = [_U8.pack(len(method)), method, _short(len(path), "path"), path]
        _encode_headers(parts, frame.headers)
        payload = b"".join(parts)
        flags = Flags.END_STREAM if frame.end_stream else 0
        return _header(FrameType.OPEN, flags, frame.stream_id, len(payload)) + payload
    if isinstance(frame, Response):
        _check_stream_id(frame.stream_id)
        parts = [_U16.pack(frame.status)]
        _encode_headers(parts, frame.headers)
        payload = b"".join(parts)
        flags = Flags.END_STREAM if frame.end_stream else 0
        return _header(FrameType.RESPONSE, flags, frame.stream_id, len(payload)) + payload
    if isinstance(frame, End):
        _check_stream_id(frame.stream_id)
        return _header(FrameType.END, 0, frame.stream_id, 0)
    if isinstance(frame, Reset):
        _check_stream_id(frame.stream_id)
        payload = _RESET.pack(frame.code) + frame.reason.encode()
        return _header(FrameType.RESET, 0, frame.stream_id, len(payload)) + payload
    if isinstance(frame, WindowUpdate):
        _check_stream_id(frame.stream_id)
        payload = _U32.pack(frame.increment)
        return _header(FrameType.WINDOW_UPDATE, 0, frame.stream_id, 4) + payload
    if isinstance(frame, Sync):
        payload = struct.pack(f"!I{len(frame.live)}I", frame.high_water, *frame.live)
        return _header(FrameType.SYNC, 0, 0, len(payload)) + payload
    reason = frame.reason.encode()
    return _header(FrameType.GOAWAY, 0, 0, len(reason)) + reason


def encode_many(frames: Iterable[Frame]) -> bytes:
    return b"".join(encode(frame) for frame in frames)


class _Reader:
    """Bounds-checked reads from one frame's payload; running short is a ProtocolError."""

    __slots__ = ("_buffer", "_end", "_offset")

    def __init__(self, buffer: memoryview, offset: int, end: int) -> None:
        self._buffer = buffer
        self._offset = offset
        self._end = end

    def take(self, size: int) -> memoryview:
        start = self._offset
        stop = start + size
        if stop > self._end:
            raise ProtocolError("frame payload is truncated")
        self._offset = stop
        return self._buffer[start:stop]

    def u8(self) -> int:
        value: int = self.take(1)[0]
        return value

    def u16(self) -> int:
        value: int = _U16.unpack(self.take(2))[0]
        return value

    def text(self, size: int) -> str:
        try:
            return str(self.take(size), "utf-8")
        except UnicodeDecodeError as error:
            raise ProtocolError(f"text is not UTF-8: {error.reason}") from None

    def headers(self) -> Headers:
        """The header block: the rest of the payload."""
        block = self.text(self._end - self._offset)
        if not block:
            return ()
        flat = block.split("\0")
        if len(flat) % 2:
            raise ProtocolError("header block has a name without a value")
        names = flat[0::2]
        if not all(names):
            raise ProtocolError("header block has an empty header name")
        return tuple(zip(names, flat[1::2], strict=True))

    def finish(self) -> None:
        if self._offset != self._end:
            raise ProtocolError("frame payload has trailing bytes")


class FrameDecoder:
    """Decodes websocket messages into frames, enforcing the size limits it was given."""

    def __init__(
        self,
        *,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
    ) -> None:
        self.max_frame_size = max_frame_size
        self.max_header_size = max_header_size

    def decode(self, message: bytes) -> list[Frame]:
        """All frames of one message; a message with no frame is itself a protocol error."""
        if not message:
            raise ProtocolError("empty message")
        view = memoryview(message)
        frames: list[Frame] = []
        offset = 0
        total = len(message)
        while offset < total:
            if total - offset < HEADER_SIZE:
                raise ProtocolError("message ends inside a frame header")
            version, type_code, flags, stream_id, length = HEADER.unpack_from(view, offset)
            offset += HEADER_SIZE
            if version != VERSION:
                raise ProtocolError(f"unsupported protocol version {version}")
            if length > self.max_frame_size:
                raise ProtocolError(
                    f"frame of {length} bytes exceeds the maximum of {self.max_frame_size}"
                )
            end = offset + length
            if end > total:
                raise ProtocolError("message ends inside a frame payload")
            frames.append(self._frame(view, type_code, flags, stream_id, offset, end))
            offset = end
        return frames

    def _frame(
        self, view: memoryview, type_code: int, flags: int, stream_id: int, start: int, end: int
    ) -> Frame:
        if type_code == FrameType.DATA:
            _expect_stream(stream_id, flags, Flags.END_STREAM)
            return Data(stream_id, bytes(view[start:end]), bool(flags))
        try:
            frame_type = FrameType(type_code)
        except ValueError:
            raise ProtocolError(f"unknown frame type {type_code}") from None
        reader = _Reader(view, start, end)
        frame: Frame
        if frame_type in (FrameType.OPEN, FrameType.RESPONSE):
            _expect_stream(stream_id, flags, Flags.END_STREAM)
            if end - start > self.max_header_size:
                raise ProtocolError(
                    f"header block of {end - start} bytes exceeds the maximum of "
                    f"{self.max_header_size}"
                )
            if frame_type is FrameType.OPEN:
                method = reader.text(reader.u8())
                if not method:
                    raise ProtocolError("OPEN without a method")
                path = reader.text(reader.u16())
                frame = Open(stream_id, method, path, reader.headers(), bool(flags))
            else:
                frame = Response(stream_id, reader.u16(), reader.headers(), bool(flags))
        elif frame_type is FrameType.END:
            _expect_stream(stream_id, flags)
            frame = End(stream_id)
        elif frame_type is FrameType.RESET:
            _expect_stream(stream_id, flags)
            code = reader.u16()
            try:
                error_code = ErrorCode(code)
            except ValueError:
                raise ProtocolError(f"unknown reset code {code}") from None
            frame = Reset(stream_id, error_code, reader.text(end - start - 2))
        elif frame_type is FrameType.WINDOW_UPDATE:
            _expect_stream(stream_id, flags)
            increment: int = _U32.unpack(reader.take(4))[0]
            if increment == 0:
                raise ProtocolError("window update of zero")
            frame = WindowUpdate(stream_id, increment)
        elif frame_type is FrameType.SYNC:
            _expect_connection(stream_id, flags)
            length = end - start
            if length < 4 or length % 4:
                raise ProtocolError("SYNC payload is not a list of 32-bit stream ids")
            ids = struct.unpack_from(f"!{length // 4}I", view, start)
            frame = Sync(ids[0], tuple(ids[1:]))
            return frame
        else:
            _expect_connection(stream_id, flags)
            frame = GoAway(reader.text(end - start))
        reader.finish()
        return frame


def _expect_stream(stream_id: int, flags: int, allowed: int = 0) -> None:
    if stream_id == 0:
        raise ProtocolError("stream frame with stream id 0")
    if flags & ~int(allowed):
        raise ProtocolError(f"unknown flags {flags:#x}")


def _expect_connection(stream_id: int, flags: int) -> None:
    if stream_id != 0:
        raise ProtocolError("connection frame with a non-zero stream id")
    if flags:
        raise ProtocolError(f"unknown flags {flags:#x}")
