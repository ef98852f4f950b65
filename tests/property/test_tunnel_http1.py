"""The forwarder's HTTP/1.1 response-head parser, fuzzed: what a server writes is read back
as written, and garbage is an HTTPError, never another exception."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.http1.pool import HTTPError, _parse_head

token_chars = st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":")
names = st.text(token_chars, min_size=1, max_size=20).filter(
    lambda name: name.lower() not in ("content-length", "transfer-encoding", "connection")
)
values = st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=30)
header_lists = st.lists(st.tuples(names, values), max_size=8)


@given(
    st.integers(200, 599),
    header_lists,
    st.one_of(st.none(), st.integers(0, 10**9)),
    st.booleans(),
    st.booleans(),
)
def test_a_written_head_is_read_back(
    status: int,
    headers: list[tuple[str, str]],
    length: int | None,
    chunked: bool,
    close: bool,
) -> None:
    lines = [f"HTTP/1.1 {status} Whatever", *(f"{name}: {value}" for name, value in headers)]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    if close:
        lines.append("Connection: close")
    head, framing = _parse_head(("\r\n".join(lines) + "\r\n\r\n").encode(), "GET")
    assert head.status == status
    assert head.headers[: len(headers)] == tuple(headers)
    assert framing.close is close
    if status in (204, 304):
        assert framing.kind == "none"
    elif chunked:
        assert framing.kind == "chunked"
    elif length is not None:
        assert framing.kind == ("length" if length else "none")
        assert framing.length == length
    else:
        assert framing.kind == "eof"


@given(st.sampled_from([b"", b"HTTP/1.1 ", b"HTTP/1.0 2"]), st.binary(max_size=300))
def test_garbage_heads_raise_http_error_only(prefix: bytes, raw: bytes) -> None:
    try:
        head, framing = _parse_head(prefix + raw + b"\r\n\r\n", "GET")
    except HTTPError:
        return
    assert 0 <= head.status <= 999
    assert framing.kind in ("none", "length", "chunked", "eof")


def test_a_head_request_has_no_body() -> None:
    head, framing = _parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "HEAD")
    assert (head.status, framing.kind) == (200, "none")
    with pytest.raises(HTTPError, match="Content-Length"):
        _parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n", "GET")
