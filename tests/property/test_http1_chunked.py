"""The chunked-body decoder (`http1/chunked.py`), fuzzed: bodies framed as RFC 9112 section 7.1
writes them (hex sizes in either case, chunk extensions, trailer fields) and cut into feeds at
any points decode to the data, each byte handed out as soon as it is fed; bad framing is an
HTTPError naming what is wrong, never another exception."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.http1.chunked import ChunkedDecoder
from pytest_syncer.http1.errors import HTTPError

# RFC 9112 7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ).
extensions = st.sampled_from([b"", b";name", b";name=value", b' ; q="a;b\\"c"', b";a=1;b"])
trailers = st.lists(st.sampled_from([b"Expires: never", b"X-Sum: 0a1b"]), max_size=2)
Segments = list[tuple[bytes, bool]]


def frame(
    pieces: list[bytes], extension: list[bytes], upper: bool, fields: list[bytes]
) -> Segments:
    """The body as (bytes, is data) segments; empty pieces are no chunks (a zero size ends)."""
    segments: Segments = []
    for index, piece in enumerate(p for p in pieces if p):
        size = f"{len(piece):x}".encode()
        segments.append(((size.upper() if upper else size) + extension[index % 5], False))
        segments += [(b"\r\n", False), (piece, True), (b"\r\n", False)]
    segments.append((b"0" + extension[0] + b"\r\n" + b"".join(f + b"\r\n" for f in fields), False))
    segments.append((b"\r\n", False))
    return segments


def feeds(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(body), *(cut % (len(body) + 1) for cut in cuts)})
    return [body[start:end] for start, end in pairwise(points)]


def decode(decoder: ChunkedDecoder, parts: list[bytes]) -> list[bytes]:
    return [piece for data in parts for piece in decoder.feed(data)]


@given(
    st.lists(st.binary(max_size=300), max_size=8),
    st.lists(extensions, min_size=5, max_size=5),
    st.booleans(),
    trailers,
    st.lists(st.integers(0, 10_000), max_size=12),
)
def test_a_framed_body_fed_in_any_pieces_decodes_to_its_data_as_it_arrives(
    pieces: list[bytes], extension: list[bytes], upper: bool, fields: list[bytes], cuts: list[int]
) -> None:
    segments = frame(pieces, extension, upper, fields)
    body = b"".join(segment for segment, _ in segments)
    decoder = ChunkedDecoder()
    fed, decoded = 0, b""
    for data in feeds(body, cuts):
        assert not decoder.finished
        out = decoder.feed(data)
        assert all(out), "an empty piece was handed out"
        fed += len(data)
        decoded += b"".join(out)
        # Every data byte fed so far is out: a stream is never held back for a whole chunk.
        start, expected = 0, b""
        for segment, is_data in segments:
            if is_data:
                expected += segment[: max(0, fed - start)]
            start += len(segment)
        assert decoded == expected
    assert decoded == b"".join(pieces)
    assert decoder.finished
    assert decoder.unused == b""


@given(st.binary(max_size=50), st.binary(max_size=20), st.integers(0, 100))
def test_bytes_past_the_last_chunk_are_no_part_of_the_body(
    data: bytes, after: bytes, cut: int
) -> None:
    body = b"".join(s for s, _ in frame([data], [b""] * 5, False, [])) + after
    decoder = ChunkedDecoder()
    assert b"".join(decode(decoder, feeds(body, [cut]))) == data
    assert decoder.finished
    assert decoder.unused == after
    assert decoder.feed(b"more") == []
    assert decoder.unused == after + b"more"


def test_the_known_vector() -> None:
    """MDN's example of a chunked response (developer.mozilla.org, Transfer-Encoding)."""
    decoder = ChunkedDecoder()
    body = b"7\r\nMozilla\r\n11\r\nDeveloper Network\r\n0\r\n\r\n"
    assert decoder.feed(body) == [b"Mozilla", b"Developer Network"]
    assert decoder.finished


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"x\r\n", "bad chunk size line b'x\\r\\n'"),
        (b"\r\n", "bad chunk size line"),
        (b"-1\r\n", "bad chunk size line"),
        (b"0x5\r\nhello\r\n", "bad chunk size line"),
        (b"+5\r\nhello\r\n", "bad chunk size line"),
        (b"5 5\r\nhello\r\n", "bad chunk size line"),
        (b"5\nhello\r\n", "bad chunk size line"),
        (b"5\r\nhelloXX", "chunk not followed by CRLF"),
        (b"5\r\nhello\rX", "chunk not followed by CRLF"),
        (b"5\r\nhello\n", "chunk not followed by CRLF"),
        (b"1" * 101, "chunk size line too long"),
        (b"1;" + b"e" * 100 + b"\r\n", "chunk size line too long"),
        (b"0\r\n" + b"X: " + b"y" * 100, "trailer line too long"),
    ],
)
@given(cut=st.integers(0, 200))
def test_bad_framing_is_an_http_error_naming_it(body: bytes, message: str, cut: int) -> None:
    decoder = ChunkedDecoder(max_line=100)
    with pytest.raises(HTTPError, match=re.escape(message)):
        decode(decoder, feeds(body, [cut]))


@given(st.binary(max_size=200), st.lists(st.integers(0, 300), max_size=5))
def test_arbitrary_bytes_decode_or_raise_http_error_only(body: bytes, cuts: list[int]) -> None:
    decoder = ChunkedDecoder(max_line=64)
    try:
        out = decode(decoder, feeds(body, cuts))
    except HTTPError:
        return
    assert all(out)
    assert len(b"".join(out)) <= len(body)
