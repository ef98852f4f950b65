"""List options as Kubernetes reads them: `limit`/`continue` paging, `resourceVersionMatch`.

A continue token carries the revision of the first page and the last key served, so every page
of one list shows the collection as it was at that revision: the store's current objects rolled
back through the event log. Once the log no longer reaches back that far (compaction), the token
has expired (410), as it does against etcd. ``resourceVersionMatch=Exact`` reads the same kind of
snapshot.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.store import WatchEvent

TOKEN_VERSION = "meta.k8s.io/v1"
NOT_OLDER_THAN = "NotOlderThan"
EXACT = "Exact"
TRUE_VALUES = {"true", "1"}
EXPIRED_CONTINUE_MESSAGE = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted between "
    "the time the first chunk was returned and now may show up in the list."
)
EXPIRED_EXACT_MESSAGE = "The resourceVersion for the provided list is too old."

#: (cluster, namespace, name): the order lists are served in.
SortKey = tuple[str, str, str]


@dataclass(frozen=True)
class ContinueToken:
    revision: int
    start: SortKey


def encode_continue(token: ContinueToken) -> str:
    document = {"v": TOKEN_VERSION, "rv": token.revision, "start": list(token.start)}
    return base64.urlsafe_b64encode(orjson.dumps(document)).decode().rstrip("=")


def decode_continue(text: str) -> ContinueToken:
    """The token a previous page returned; 400 for anything this server did not hand out."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        document = orjson.loads(raw)
    except (binascii.Error, ValueError):
        raise APIError(400, "invalid continue token: not a token this server issued") from None
    if not isinstance(document, dict) or document.get("v") != TOKEN_VERSION:
        raise APIError(400, "invalid continue token: unknown version")
    revision = document.get("rv")
    start = document.get("start")
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 1:
        raise APIError(400, "invalid continue token: bad resource version")
    if not (isinstance(start, list) and len(start) == 3 and all(isinstance(p, str) for p in start)):
        raise APIError(400, "invalid continue token: bad start key")
    return ContinueToken(revision, (start[0], start[1], start[2]))


@dataclass(frozen=True)
class ListOptions:
    """The query parameters of a list or watch that choose what is read and from when."""

    resource_version: str | None = None
    match: str = ""
    limit: int = 0
    continue_token: ContinueToken | None = None
    send_initial_events: bool | None = None
    allow_bookmarks: bool = False

    @property
    def paged_or_pinned(self) -> bool:
        """Whether a list needs more than "everything, now" (the fast path)."""
        return bool(
            self.limit
            or self.continue_token is not None
            or self.match == EXACT
            or self.resource_version not in (None, "", "0")
        )


def _invalid(causes: list[tuple[str, str, str]]) -> APIError:
    summary = ", ".join(f"{field}: {message}" for field, _, message in causes)
    return APIError(
        422,
        f'ListOptions.meta.k8s.io "" is invalid: {summary}',
        name="",
        kind="ListOptions",
        group="meta.k8s.io",
        causes=[
            {"reason": reason, "message": message, "field": field}
            for field, reason, message in causes
        ],
    )


def parse_list_options(query: Mapping[str, str], *, watch: bool) -> ListOptions:
    """Read and check list options the way the API server's ListOptions validation does."""
    resource_version = query.get("resourceVersion")
    match = query.get("resourceVersionMatch", "")
    raw_limit = query.get("limit", "")
    raw_continue = query.get("continue", "")
    raw_initial = query.get("sendInitialEvents")
    send_initial = None if raw_initial is None else raw_initial.lower() in TRUE_VALUES
    bookmarks = query.get("allowWatchBookmarks", "").lower() in TRUE_VALUES
    limit = 0
    if raw_limit:
        try:
            limit = int(raw_limit)
        except ValueError:
            raise APIError(400, f"invalid limit {raw_limit!r}: not an integer") from None
        limit = max(limit, 0)
    causes: list[tuple[str, str, str]] = []
    if match not in ("", NOT_OLDER_THAN, EXACT):
        causes.append(
            (
                "resourceVersionMatch",
                "FieldValueNotSupported",
                f'Unsupported value: "{match}": supported values: "Exact", "NotOlderThan", ""',
            )
        )
    if watch:
        if send_initial is not None:
            if match != NOT_OLDER_THAN:
                causes.append(
                    (
                        "resourceVersionMatch",
                        "FieldValueForbidden",
                        "Forbidden: sendInitialEvents requires setting resourceVersionMatch to "
                        "NotOlderThan",
                    )
                )
            if send_initial and not bookmarks:
                causes.append(
                    (
                        "allowWatchBookmarks",
                        "FieldValueForbidden",
                        "Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true",
                    )
                )
        elif match:
            causes.append(
                (
                    "resourceVersionMatch",
                    "FieldValueForbidden",
                    "Forbidden: resourceVersionMatch is forbidden for watch unless "
                    "sendInitialEvents is provided",
                )
            )
    else:
        if send_initial is not None:
            causes.append(
                (
                    "sendInitialEvents",
                    "FieldValueForbidden",
                    "Forbidden: sendInitialEvents is forbidden for list",
                )
            )
        if match and not resource_version:
            causes.append(
                (
                    "resourceVersionMatch",
                    "FieldValueForbidden",
                    "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is "
                    "provided",
                )
            )
        if match and raw_continue:
            causes.append(
                (
                    "resourceVersionMatch",
                    "FieldValueForbidden",
                    "Forbidden: resourceVersionMatch is forbidden when continue is provided",
                )
            )
        if match == EXACT and resource_version == "0":
            causes.append(
                (
                    "resourceVersionMatch",
                    "FieldValueForbidden",
                    'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
                )
            )
    if causes:
        raise _invalid(causes)
    token = None
    if raw_continue and not watch:
        if resource_version not in (None, "", "0"):
            raise APIError(400, "specifying resource version is not allowed when using continue")
        token = decode_continue(raw_continue)
    return ListOptions(
        resource_version=resource_version,
        match=match,
        limit=limit,
        continue_token=token,
        send_initial_events=send_initial,
        allow_bookmarks=bookmarks,
    )


def too_large(requested: int, current: int) -> APIError:
    """What the server answers for a resourceVersion it has not reached yet."""
    return APIError(
        504,
        f"Too large resource version: {requested}, current: {current}",
        reason="Timeout",
        causes=[
            {
                "reason": "ResourceVersionTooLarge",
                "message": "Too large resource version",
            }
        ],
    )


def sort_key(obj: Mapping[str, Any], cluster: str) -> SortKey:
    metadata = obj["metadata"]
    return (cluster, metadata.get("namespace") or "", metadata["name"])


def roll_back(
    current: Mapping[SortKey, dict[str, Any]],
    events_after: Iterable[WatchEvent],
    wanted: Callable[[WatchEvent], bool],
) -> dict[SortKey, dict[str, Any]]:
    """The objects as they were before ``events_after`` (oldest first) happened."""
    state = dict(current)
    for event in reversed(list(events_after)):
        if not wanted(event):
            continue
        key = (event.key.cluster, event.key.namespace, event.key.name)
        if event.type == "ADDED":
            state.pop(key, None)
        elif event.previous is not None:
            state[key] = event.previous
    return state


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    continue_token: str | None
    remaining: int | None


def page(
    ordered: list[tuple[SortKey, dict[str, Any]]],
    *,
    revision: int,
    after: SortKey | None,
    limit: int,
    count_remaining: bool,
) -> Page:
    """One page of ``ordered`` (sorted by key): the items after ``after``, at most ``limit``."""
    if after is not None:
        ordered = [entry for entry in ordered if entry[0] > after]
    if not limit or len(ordered) <= limit:
        return Page([obj for _, obj in ordered], None, None)
    shown = ordered[:limit]
    token = encode_continue(ContinueToken(revision, shown[-1][0]))
    remaining = len(ordered) - limit if count_remaining else None
    return Page([obj for _, obj in shown], token, remaining)
