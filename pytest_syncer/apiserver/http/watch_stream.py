"""Watch streams: chunked JSON lines (or protobuf frames), bookmarks, timeouts, and the end of a
gone client.

Where a watch starts (and what it sends first) is the API's decision
(:func:`~pytest_syncer.apiserver.api.watch.start_watch`); this module writes it out and keeps
writing what the fan-out hands the watcher until the timeout, the client or the server ends it. The
negotiated representation picks the encoder and the Content-Type (:func:`watch_encoding`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from pytest_syncer.apiserver.api.conversion import Convert
from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.object_api import ObjectAPI, Selection
from pytest_syncer.apiserver.api.resources import ResourcePath, ResourceType
from pytest_syncer.apiserver.api.watch import (
    EventEncoder,
    Watcher,
    WatchFanout,
    bookmark_line,
    bookmark_object,
    start_watch,
)
from pytest_syncer.apiserver.http.negotiation import (
    MetadataFormat,
    Output,
    ProtobufFormat,
    TableFormat,
)
from pytest_syncer.apiserver.http.protobuf import envelope as protobuf
from pytest_syncer.apiserver.store import Store, committed, encode_event_line

logger = logging.getLogger(__name__)

#: An idle watch checks this often whether its client is still there.
WATCH_IDLE_CHECK_SECONDS = 5.0


def watch_encoding(
    output: Output, resource_type: ResourceType, convert: Convert | None = None
) -> tuple[EventEncoder | None, str]:
    """The event encoder (None: the shared JSON lines) and the Content-Type for ``output``;
    ``convert`` turns stored objects into the served version's (Tables print them stored)."""
    encoder, content_type = _encoding(output, resource_type)
    if convert is None or isinstance(output, TableFormat):
        return encoder, content_type
    base = encoder or _json_line

    def converted(event_type: str, obj: Mapping[str, Any]) -> bytes:
        passed = obj if event_type in ("BOOKMARK", "ERROR") else convert(obj)
        return base(event_type, passed)

    return converted, content_type


def _json_line(event_type: str, obj: Mapping[str, Any]) -> bytes:
    return encode_event_line(event_type, orjson.dumps(obj))


def _encoding(output: Output, resource_type: ResourceType) -> tuple[EventEncoder | None, str]:
    if isinstance(output, TableFormat):
        encoder = output.watch_encoder(resource_type.kind, resource_type.printer_columns)
        return encoder, "application/json"
    if isinstance(output, ProtobufFormat):
        return protobuf.watch_frame, protobuf.WATCH_MEDIA_TYPE
    if isinstance(output, MetadataFormat):
        content_type = (
            protobuf.WATCH_MEDIA_TYPE
            if output.media_type == protobuf.MEDIA_TYPE
            else "application/json"
        )
        return output.watch_encoder(), content_type
    return None, "application/json"


async def serve_watch(
    request: web.Request,
    api: ObjectAPI,
    fanout: WatchFanout,
    path: ResourcePath,
    selection: Selection,
    output: Output,
    bookmark_interval: float,
    convert: Convert | None = None,
) -> web.StreamResponse:
    """Answer a watch request with its stream, registered with ``fanout`` while it is open."""
    query = request.rel_url.query
    resource_type = path.resource_type
    encoder, content_type = watch_encoding(output, resource_type, convert)
    start = start_watch(api, path, selection, query, encoder)
    timeout = parse_timeout(query.get("timeoutSeconds"))
    watcher = start.watcher
    send_initial = bool(start.options.send_initial_events)
    initial = start.initial
    response = web.StreamResponse(headers={"Content-Type": content_type})
    response.enable_chunked_encoding()
    fanout.add(watcher)
    try:
        await response.prepare(request)
        chunks = _Chunks(request, api.store)
        if start.failure is not None:
            await chunks.write(start.failure)
            return response
        if send_initial:
            initial += _bookmark(encoder, resource_type, start.revision, initial_events_end=True)
        if initial:
            await chunks.write(initial)
        await _stream(
            request,
            chunks,
            api,
            watcher,
            resource_type,
            timeout,
            start.options.allow_bookmarks,
            bookmark_interval,
        )
    except ConnectionResetError:
        pass
    except Exception:
        if not response.prepared:
            raise
        # The status line and maybe events are out: no error answer can follow. Dropping the
        # connection ends the stream as a restarted server would, and the client watches
        # again from its last resourceVersion instead of waiting on a silent stream.
        logger.exception("watch of %s ended by an internal error", request.rel_url.path)
        if request.transport is not None:
            request.transport.abort()
    finally:
        fanout.remove(watcher)
        watcher.stop_timer()
    return response


async def _stream(
    request: web.Request,
    chunks: _Chunks,
    api: ObjectAPI,
    watcher: Watcher,
    resource_type: ResourceType,
    timeout: float | None,
    bookmarks: bool,
    bookmark_interval: float,
) -> None:
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    next_bookmark = loop.time() + bookmark_interval
    while True:
        now = loop.time()
        wait = WATCH_IDLE_CHECK_SECONDS
        if deadline is not None:
            wait = min(wait, deadline - now)
        if bookmarks:
            wait = min(wait, next_bookmark - now)
        if wait > 0:
            await watcher.wait(wait)
        if watcher.overflowed or _client_gone(request):
            return
        if watcher.closed:
            await chunks.write(watcher.drain())
            return
        drained_revision = api.store.revision
        data = watcher.drain()
        if bookmarks and loop.time() >= next_bookmark:
            data += _bookmark(watcher.encoder, resource_type, drained_revision)
            next_bookmark = loop.time() + bookmark_interval
        if data:
            await chunks.write(data)
        if deadline is not None and loop.time() >= deadline:
            return


class _Chunks:
    """Chunked-encoding frames written straight to the connection, one transport write each.

    What aiohttp's ``StreamResponse.write`` would send, byte for byte, without its layers per
    event (a third of a watch event's own cost besides the socket send). Flow control stays:
    while the transport is over its high-water mark the stream awaits its drain, and the events
    meanwhile wait in the watcher's queue, which cuts the watch off at ``MAX_PENDING_EVENTS``.
    The response's headers are sent at ``prepare`` (a ``StreamResponse`` sends them at once),
    and aiohttp ends the stream with its last chunk after the handler returns. No frame goes
    out before the store's writes so far are committed: a client told of a write must not see
    a killed server forget it.
    """

    def __init__(self, request: web.Request, store: Store) -> None:
        self._transport = request.transport
        self._protocol = request.protocol
        self._writer = request.writer
        self._store = store

    async def write(self, data: bytes) -> None:
        if not data:
            return
        await committed(self._store)
        transport = self._transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("the watch's client has gone")
        frame = b"%x\r\n%b\r\n" % (len(data), data)
        transport.write(frame)
        self._writer.output_size += len(frame)
        if self._protocol.writing_paused:
            await self._writer.drain()


def _bookmark(
    encoder: EventEncoder | None,
    resource_type: ResourceType,
    revision: int,
    *,
    initial_events_end: bool = False,
) -> bytes:
    """A BOOKMARK in the watch's own encoding (a protobuf frame, or a JSON line)."""
    if encoder is None:
        return bookmark_line(
            resource_type.api_version,
            resource_type.kind,
            revision,
            initial_events_end=initial_events_end,
        )
    obj = bookmark_object(
        resource_type.api_version,
        resource_type.kind,
        revision,
        initial_events_end=initial_events_end,
    )
    return encoder("BOOKMARK", obj)


def parse_timeout(value: str | None) -> float | None:
    if value is None or value == "":
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise APIError(400, f"invalid timeoutSeconds {value!r}") from None
    if seconds < 0:
        raise APIError(400, f"invalid timeoutSeconds {value!r}")
    return seconds or None


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()
