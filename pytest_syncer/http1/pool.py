"""A lean HTTP/1.1 client with a keep-alive pool, for callers that need none of a full
client's conveniences (cookies, redirects, decompression, proxies, JSON).

The tunnel's forwarder passes requests and bodies through verbatim, and `KubeClient` sends its
own JSON; aiohttp's client spent as much CPU per request as the hub's whole request handling
(about 70 µs more than this one per request). This one does a fraction of that work on asyncio
streams, whose reader pauses the socket when its buffer is full (flow control).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from pytest_syncer.http1.chunked import ChunkedDecoder
from pytest_syncer.http1.errors import HTTPError
from pytest_syncer.process.lifetime import Lifetime

MAX_HEAD_SIZE = 64 * 1024
DEFAULT_CONNECTION_LIMIT = 4096
DEFAULT_MAX_IDLE = 64
READ_CHUNK = 64 * 1024
_NO_BODY_STATUS = frozenset({204, 304})
_FORBIDDEN = str.maketrans("", "", "\r\n\0")


@dataclass(frozen=True, slots=True)
class ResponseHead:
    status: int
    headers: tuple[tuple[str, str], ...]


def _clean(text: str, what: str) -> str:
    if text.translate(_FORBIDDEN) != text:
        raise ValueError(f"{what} holds a line break or NUL")
    return text


class _Connection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @property
    def usable(self) -> bool:
        return not (self.reader.at_eof() or self.writer.is_closing())

    def close(self) -> None:
        self.writer.close()


class Exchange:
    """One request in flight: its response head, then its body in pieces."""

    def __init__(
        self,
        pool: HTTP1Pool,
        connection: _Connection,
        head: ResponseHead,
        framing: _Framing,
    ) -> None:
        self.head = head
        self._pool = pool
        self._connection = connection
        self._framing = framing.kind
        self._remaining = framing.length
        self._reusable = framing.kind != "eof" and not framing.close
        self._done = framing.kind == "none"

    @property
    def done(self) -> bool:
        """Whether the whole body has been read (true while the last piece is handed out,
        when the length says so)."""
        return self._done

    async def read(self) -> bytes:
        """The whole body."""
        if self._framing == "length":
            try:
                body = await self._connection.reader.readexactly(self._remaining)
            except asyncio.IncompleteReadError:
                raise HTTPError("connection closed inside the response body") from None
            self._remaining = 0
            self._done = True
            return body
        return b"".join([piece async for piece in self.body()])

    async def body(self) -> AsyncIterator[bytes]:
        """The body as it arrives (chunked encoding removed); empty pieces never appear."""
        reader = self._connection.reader
        if self._framing == "length":
            while self._remaining > 0:
                piece = await reader.read(min(self._remaining, READ_CHUNK))
                if not piece:
                    raise HTTPError("connection closed inside the response body")
                self._remaining -= len(piece)
                self._done = self._remaining == 0
                yield piece
        elif self._framing == "chunked":
            decoder = ChunkedDecoder(MAX_HEAD_SIZE)
            while not decoder.finished:
                data = await reader.read(READ_CHUNK)
                if not data:
                    raise HTTPError("connection closed inside a chunk")
                for piece in decoder.feed(data):
                    yield piece
            # Bytes past the body answer no request of ours: the connection is not reused.
            self._reusable = self._reusable and not decoder.unused
        elif self._framing == "eof":
            while piece := await reader.read(READ_CHUNK):
                yield piece
        self._done = True

    def release(self) -> None:
        """Give the connection back if the response was read to the end, else close it."""
        if self._done and self._reusable:
            self._pool._release(self._connection)
        else:
            self._connection.close()
            self._pool._slots.release()


class HTTP1Pool(Lifetime, stop="close"):
    """Keep-alive connections to one server (the base URL of a kubeconfig)."""

    def __init__(
        self,
        base_url: str,
        ssl_context: ssl.SSLContext | bool,
        *,
        limit: int = DEFAULT_CONNECTION_LIMIT,
        max_idle: int = DEFAULT_MAX_IDLE,
        server_hostname: str | None = None,
    ) -> None:
        """``limit`` bounds the connections in use at once (a watch holds one for its whole
        life, so keep it well above the watches expected); ``max_idle`` bounds those kept
        open between requests. ``server_hostname`` is the name TLS sends and checks the
        certificate against, when it is not the URL's host (a kubeconfig's
        ``tls-server-name``)."""
        parts = urlsplit(base_url)
        self._tls = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._server_hostname = server_hostname or self._host
        self._port = parts.port or (443 if self._tls else 80)
        self._host_header = parts.netloc
        self.base_path = parts.path.rstrip("/")
        self._ssl: ssl.SSLContext | None = None
        if self._tls:
            self._ssl = (
                ssl_context
                if isinstance(ssl_context, ssl.SSLContext)
                else ssl.create_default_context()
            )
        self._idle: list[_Connection] = []
        self._max_idle = max_idle
        self._slots = asyncio.Semaphore(limit)
        self.connect_timeout = 10.0

    def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()

    def _release(self, connection: _Connection) -> None:
        if connection.usable and len(self._idle) < self._max_idle:
            self._idle.append(connection)
        else:
            connection.close()
        self._slots.release()

    async def _connect(self) -> _Connection:
        # Not wait_for: on Python 3.11 it swallows a cancellation that arrives as the
        # connection completes, and a task told to stop would go on (to a watch, for ever).
        async with asyncio.timeout(self.connect_timeout):
            reader, writer = await asyncio.open_connection(
                self._host,
                self._port,
                ssl=self._ssl,
                server_hostname=self._server_hostname if self._tls else None,
                limit=MAX_HEAD_SIZE,
            )
        return _Connection(reader, writer)

    def _serialize(
        self, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> bytes:
        lines = [f"{method} {self.base_path + path} HTTP/1.1", f"Host: {self._host_header}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        head = "\r\n".join(lines)
        # One scan of the whole head (a fifth of the cost of one per part): as many line
        # breaks as the lines joined means no part brought its own.
        breaks = len(lines) - 1
        if head.count("\n") != breaks or head.count("\r") != breaks or "\0" in head:
            _clean(method, "method")
            _clean(self.base_path + path, "path")
            for name, value in headers:
                _clean(name, "header name")
                _clean(value, "header value")
        return (head + "\r\n\r\n").encode() + body

    async def request(
        self, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes = b""
    ) -> Exchange:
        """Send the request and read the response head; the caller reads the body from the
        exchange and must ``release`` it. ``path`` is appended to the base URL's path."""
        message = self._serialize(method, path, headers, body)
        await self._slots.acquire()
        try:
            while self._idle:
                connection = self._idle.pop()
                if not connection.usable:
                    connection.close()
                    continue
                # A kept-alive connection the server closed meanwhile fails before any byte
                # of the answer: nothing was processed, so sending again is safe.
                try:
                    return await self._exchange(connection, method, message)
                except HTTPError:
                    raise
                except asyncio.IncompleteReadError as error:
                    connection.close()
                    if error.partial:
                        raise HTTPError("the server closed the connection mid-answer") from None
                except ConnectionError:
                    connection.close()
            connection = await self._connect()
            try:
                return await self._exchange(connection, method, message)
            except HTTPError:
                raise
            except (asyncio.IncompleteReadError, ConnectionError) as error:
                connection.close()
                raise HTTPError(f"the server closed the connection: {error}") from None
        except BaseException:
            self._slots.release()
            raise

    async def _exchange(self, connection: _Connection, method: str, message: bytes) -> Exchange:
        try:
            connection.writer.write(message)
            while True:
                try:
                    raw = await connection.reader.readuntil(b"\r\n\r\n")
                except asyncio.LimitOverrunError:
                    raise HTTPError("response head too large") from None
                head, framing = _parse_head(raw, method)
                if not 100 <= head.status < 200:
                    return Exchange(self, connection, head, framing)
        except (HTTPError, asyncio.CancelledError):
            connection.close()
            raise


@dataclass(frozen=True, slots=True)
class _Framing:
    """How the body is delimited: "none", "length", "chunked" or "eof" (until close)."""

    kind: str
    length: int
    close: bool


def _parse_head(raw: bytes, method: str) -> tuple[ResponseHead, _Framing]:
    lines = raw[:-4].decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    if not version.startswith("HTTP/1."):
        raise HTTPError(f"not an HTTP/1.x response: {lines[0][:60]!r}")
    code = rest[:3]
    if len(code) != 3 or not code.isascii() or not code.isdigit():
        raise HTTPError(f"bad status line {lines[0][:60]!r}")
    status = int(code)
    headers = []
    length = -1
    chunked = False
    close = version == "HTTP/1.0"
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise HTTPError(f"bad header line {line[:60]!r}")
        value = value.strip()
        lower = name.lower()
        if lower == "content-length":
            try:
                length = int(value)
            except ValueError:
                raise HTTPError(f"bad Content-Length {value!r}") from None
        elif lower == "transfer-encoding":
            chunked = value.lower().endswith("chunked")
        elif lower == "connection":
            close = value.lower() == "close"
        headers.append((name, value))
    head = ResponseHead(status, tuple(headers))
    if method == "HEAD" or status in _NO_BODY_STATUS or 100 <= status < 200:
        kind = "none"
    elif chunked:
        kind = "chunked"
    elif length >= 0:
        kind = "length" if length else "none"
    else:
        kind = "eof"
    return head, _Framing(kind, length, close)
