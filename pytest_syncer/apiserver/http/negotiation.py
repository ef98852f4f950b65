"""Response negotiation: which representation the Accept header asks for.

``kubectl get`` asks for ``application/json;as=Table;v=v1;g=meta.k8s.io`` (then v1beta1, then
plain JSON) and prints whatever comes back; a Table lets the server choose the columns, as the
real one does. The first alternative this server can produce wins; an Accept header naming only
representations it cannot produce (``as=PartialObjectMetadataList``, protobuf) gets a 406, which
tells clients to ask again for JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.http.printing.table import INCLUDE_OBJECT_CHOICES, to_table
from pytest_syncer.apiserver.store import encode_event_line

TABLE_GROUP = "meta.k8s.io"
TABLE_VERSIONS = ("v1", "v1beta1")
_JSON_TYPES = frozenset({"application/json", "application/*", "*/*", "*"})


@dataclass(frozen=True)
class TableFormat:
    """A Table was asked for: its apiVersion and what each row carries as ``object``."""

    api_version: str = f"{TABLE_GROUP}/v1"
    include_object: str = "Metadata"

    def table(
        self,
        kind: str,
        objects: Sequence[Mapping[str, Any]],
        list_metadata: Mapping[str, Any] | None = None,
        *,
        include_columns: bool = True,
        printer_columns: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        """``printer_columns``: a custom resource's additionalPrinterColumns, if it has any."""
        document = to_table(
            kind,
            objects,
            include_object=self.include_object,
            printer_columns=printer_columns or None,
            list_metadata=list_metadata,
            include_columns=include_columns,
        )
        document["apiVersion"] = self.api_version
        return document

    def watch_encoder(
        self, kind: str, printer_columns: Sequence[Mapping[str, Any]] = ()
    ) -> Callable[[str, Mapping[str, Any]], bytes]:
        """Encodes watch events as one-row Tables; only the first carries the columns."""
        first = True

        def encode(event_type: str, obj: Mapping[str, Any]) -> bytes:
            nonlocal first
            if event_type in ("BOOKMARK", "ERROR"):
                return encode_event_line(event_type, orjson.dumps(obj))
            metadata = {"resourceVersion": (obj.get("metadata") or {}).get("resourceVersion", "")}
            document = self.table(
                kind, [obj], metadata, include_columns=first, printer_columns=printer_columns
            )
            first = False
            return encode_event_line(event_type, orjson.dumps(document))

        return encode


def _alternatives(accept: str) -> list[tuple[str, dict[str, str]]]:
    found = []
    for part in accept.split(","):
        pieces = [piece.strip() for piece in part.split(";")]
        if not pieces[0]:
            continue
        parameters = {}
        for piece in pieces[1:]:
            name, _, value = piece.partition("=")
            parameters[name.strip().lower()] = value.strip()
        found.append((pieces[0].lower(), parameters))
    return found


def negotiate(accept: str, query: Mapping[str, str]) -> TableFormat | None:
    """A :class:`TableFormat` when the client prefers a Table, None for plain JSON; else 406."""
    alternatives = _alternatives(accept)
    if not alternatives:
        return None
    for media_type, parameters in alternatives:
        if media_type not in _JSON_TYPES:
            continue
        wanted = parameters.get("as")
        if wanted is None:
            return None
        if (
            wanted == "Table"
            and parameters.get("g") == TABLE_GROUP
            and parameters.get("v") in TABLE_VERSIONS
        ):
            include_object = query.get("includeObject") or "Metadata"
            if include_object not in INCLUDE_OBJECT_CHOICES:
                raise APIError(
                    400,
                    f"includeObject must be one of {', '.join(INCLUDE_OBJECT_CHOICES)}, "
                    f"not {include_object!r}",
                )
            return TableFormat(f"{TABLE_GROUP}/{parameters['v']}", include_object)
    raise APIError(
        406,
        f"only the following media types are accepted: application/json, "
        f"application/json;as=Table;v=v1;g={TABLE_GROUP} (asked for {accept!r})",
    )
