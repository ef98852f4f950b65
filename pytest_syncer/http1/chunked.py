"""The chunked transfer coding of HTTP/1.1 bodies (RFC 9112 section 7.1), decoded without I/O:
the async client (`pool.py`) feeds what its StreamReader reads, the load test's watches what a
blocking socket receives, and both get the same framing checks and errors.

Framing: ``<hex size>[;ext]CRLF<data>CRLF`` per chunk, a zero size ends the body, then trailer
fields and an empty line. Extensions are ignored. Trailer fields are read and dropped, as
``pool.py`` always did: no caller forwards them (the forwarder re-frames the body) and the API
servers it talks to send none. A size or trailer line is limited to ``max_line`` bytes.
"""

from __future__ import annotations

from pytest_syncer.http1.errors import HTTPError

MAX_LINE_SIZE = 64 * 1024
_HEX_DIGITS = b"0123456789abcdefABCDEF"
_SIZE, _DATA, _CRLF, _TRAILER = range(4)


class ChunkedDecoder:
    """Feed the body's bytes as they arrive; each `feed` returns the data they carry (never an
    empty piece; a chunk's data as soon as it is here, so a stream is never held back), and
    `finished` turns true at the empty line after the last chunk. Bytes past it are kept in
    `unused`: they are no part of this body.

    Work is a find and one slice per chunk within a feed; only a line split across feeds is
    buffered (at most `max_line` bytes), never the data."""

    __slots__ = ("_line", "_max_line", "_remaining", "_state", "finished", "unused")

    def __init__(self, max_line: int = MAX_LINE_SIZE) -> None:
        self._state = _SIZE
        self._line = bytearray()
        self._max_line = max_line
        self._remaining = 0
        self.finished = False
        self.unused = b""

    def feed(self, data: bytes) -> list[bytes]:
        """The chunk data in `data`, in pieces; raises `HTTPError` on bad framing."""
        if self.finished:
            self.unused += data
            return []
        pieces: list[bytes] = []
        position, end = 0, len(data)
        while position < end:
            state = self._state
            if state == _DATA:
                stop = min(position + self._remaining, end)
                pieces.append(data if stop - position == end else data[position:stop])
                self._remaining -= stop - position
                position = stop
                if not self._remaining:
                    self._state = _CRLF
                    self._remaining = 2
            elif state == _CRLF:
                expected = b"\r\n"[2 - self._remaining :]
                taken = data[position : position + len(expected)]
                if not expected.startswith(taken):
                    raise HTTPError("chunk not followed by CRLF")
                position += len(taken)
                self._remaining -= len(taken)
                if not self._remaining:
                    self._state = _SIZE
            else:
                newline = data.find(b"\n", position)
                if newline < 0:
                    self._line += data[position:]
                    if len(self._line) > self._max_line:
                        raise HTTPError(f"{self._what()} line too long")
                    break
                line = data[position : newline + 1]
                if self._line:
                    self._line += line
                    line = bytes(self._line)
                    self._line.clear()
                if len(line) > self._max_line:
                    raise HTTPError(f"{self._what()} line too long")
                position = newline + 1
                if state == _TRAILER:
                    if line == b"\r\n":
                        self.finished = True
                        self.unused = data[position:]
                        break
                    continue
                size = _chunk_size(line)
                stop = position + size
                if size and stop + 2 <= end:
                    # The whole chunk is here (the usual case for a watch event): one slice.
                    if data[stop : stop + 2] != b"\r\n":
                        raise HTTPError("chunk not followed by CRLF")
                    pieces.append(data[position:stop])
                    position = stop + 2
                else:
                    self._remaining = size
                    self._state = _DATA if size else _TRAILER
        return pieces

    def _what(self) -> str:
        return "chunk size" if self._state == _SIZE else "trailer"


def _chunk_size(line: bytes) -> int:
    """The size a chunk's size line gives: hex digits, then any extensions (ignored)."""
    size = line[:-2].split(b";", 1)[0].rstrip(b" \t")
    if not line.endswith(b"\r\n") or not size or size.translate(None, _HEX_DIGITS):
        raise HTTPError(f"bad chunk size line {line[:40]!r}")
    return int(size, 16)
