"""Response negotiation: which representation the Accept header asks for.

``kubectl get`` asks for ``application/json;as=Table;v=v1;g=meta.k8s.io`` (then v1beta1, then
plain JSON) and prints whatever comes back; a Table lets the server choose the columns, as the
real one does. Client-go's metadata informers ask for ``as=PartialObjectMetadata`` (get and
watch) and ``as=PartialObjectMetadataList`` (list), in protobuf first. Alternatives are tried as
Kubernetes tries them (by q-value, then by order, a wildcard after a named type, q=0 never); the
first this server can produce wins: JSON, YAML (not for watches: YAML has no stream framing), a
JSON Table (Kubernetes serves Tables as JSON only), metadata only in any of the three, or
protobuf for a type that has a protobuf form. An Accept header naming only representations it
cannot produce (protobuf for a custom resource, an unknown ``as=``) gets a 406.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import yaml

from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.http.printing.table import INCLUDE_OBJECT_CHOICES, to_table
from pytest_syncer.apiserver.http.protobuf.envelope import MEDIA_TYPE as PROTOBUF
from pytest_syncer.apiserver.http.protobuf.envelope import encode_object, watch_frame
from pytest_syncer.apiserver.store import encode_event_line

TABLE_GROUP = "meta.k8s.io"
TABLE_VERSIONS = ("v1", "v1beta1")
_JSON_TYPES = frozenset({"application/json", "application/*", "*/*", "*"})
YAML = "application/yaml"
METADATA = "PartialObjectMetadata"
METADATA_LIST = "PartialObjectMetadataList"


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


@dataclass(frozen=True)
class ProtobufFormat:
    """Protobuf was asked for, and the type has a protobuf form."""


@dataclass(frozen=True)
class YamlFormat:
    """``application/yaml`` was asked for: the JSON document, written as YAML."""


@dataclass(frozen=True)
class MetadataFormat:
    """``as=PartialObjectMetadata[List]``: objects reduced to their metadata, in ``media_type``."""

    api_version: str
    kind: str
    media_type: str = "application/json"

    def transform(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """``document`` as Kubernetes reduces it; 406 for a list asked as an object or back."""
        if document.get("kind") == "Status" and document.get("apiVersion") == "v1":
            return dict(document)  # a Status (a DELETE's answer) is never reduced
        is_list = "items" in document
        if self.kind == METADATA and is_list:
            raise APIError(
                406,
                f"you requested {METADATA}, but the requested object is a list "
                f"({document.get('kind')})",
            )
        if self.kind == METADATA_LIST and not is_list:
            raise APIError(
                406,
                f"you requested {METADATA_LIST}, but the requested object is not a list "
                f"({document.get('kind')})",
            )
        if not is_list:
            return self.partial(document)
        list_metadata = document.get("metadata") or {}
        return {
            "kind": METADATA_LIST,
            "apiVersion": self.api_version,
            "metadata": {
                key: list_metadata[key]
                for key in ("resourceVersion", "continue", "remainingItemCount")
                if key in list_metadata
            },
            "items": [self.partial(item) for item in document["items"]],
        }

    def partial(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """One object's ``PartialObjectMetadata``."""
        metadata = obj.get("metadata") or {}
        return {"kind": METADATA, "apiVersion": self.api_version, "metadata": metadata}

    def watch_encoder(self) -> Callable[[str, Mapping[str, Any]], bytes]:
        """Encodes each watch event's object (bookmarks too, not errors) as metadata only."""
        if self.kind == METADATA_LIST:
            raise APIError(
                406, f"you requested {METADATA_LIST}, but a watch sends objects, not lists"
            )

        def encode(event_type: str, obj: Mapping[str, Any]) -> bytes:
            shown = obj if event_type == "ERROR" else self.partial(obj)
            if self.media_type == PROTOBUF:
                return watch_frame(event_type, shown)
            return encode_event_line(event_type, orjson.dumps(shown))

        return encode


def write_yaml(document: Any) -> bytes:
    """A JSON document as YAML, keys sorted, as Kubernetes writes it (JSON to YAML via Go maps)."""
    return yaml.safe_dump(document, default_flow_style=False, sort_keys=True).encode()


@functools.lru_cache(maxsize=256)
def _alternatives(accept: str) -> tuple[tuple[str, dict[str, str]], ...]:
    """Accept's media types in Kubernetes' order (goautoneg): q-value, then named over wildcard.

    Clients send the same few headers on every request: each is parsed once (the parameter
    dicts are shared, read only)."""
    found = []
    for part in accept.split(","):
        pieces = [piece.strip() for piece in part.split(";")]
        if not pieces[0]:
            continue
        parameters = {}
        for piece in pieces[1:]:
            name, _, value = piece.partition("=")
            parameters[name.strip().lower()] = value.strip()
        try:
            quality = float(parameters.pop("q", "1"))
        except ValueError:
            quality = 1.0
        if quality > 0:
            found.append((quality, pieces[0].lower(), parameters))
    found.sort(key=lambda a: (-a[0], a[1].startswith("*"), a[1].endswith("/*")))
    return tuple((media_type, parameters) for _, media_type, parameters in found)


Output = TableFormat | ProtobufFormat | YamlFormat | MetadataFormat | None
"""How a response is written; None is plain JSON."""


def render_document(document: Any, output: Output) -> tuple[bytes, str]:
    """An object or list as negotiated, with its Content-Type: metadata only, protobuf, YAML,
    else JSON (Tables are built by the callers)."""
    media_type = "application/json"
    if isinstance(output, MetadataFormat):
        document, media_type = output.transform(document), output.media_type
    elif isinstance(output, ProtobufFormat):
        media_type = PROTOBUF
    elif isinstance(output, YamlFormat):
        media_type = YAML
    if media_type == PROTOBUF:
        return encode_object(document), PROTOBUF
    if media_type == YAML:
        return write_yaml(document), YAML
    return orjson.dumps(document), "application/json"


def negotiate(
    accept: str, query: Mapping[str, str], *, protobuf: bool = False, watch: bool = False
) -> Output:
    """The first representation of ``accept`` this server can produce; else 406.

    ``protobuf``: the type has a protobuf form (metadata-only protobuf is served for every
    type, as Kubernetes serves it for custom resources too). ``watch``: YAML cannot stream."""
    alternatives = _alternatives(accept)
    if not alternatives:
        return None
    for media_type, parameters in alternatives:
        wanted = parameters.get("as")
        if wanted in (METADATA, METADATA_LIST):
            servable = media_type in _JSON_TYPES or media_type == PROTOBUF
            servable = servable or (media_type == YAML and not watch)
            if (
                servable
                and parameters.get("g") == TABLE_GROUP
                and parameters.get("v") in TABLE_VERSIONS
            ):
                encoding = "application/json" if media_type in _JSON_TYPES else media_type
                return MetadataFormat(f"{TABLE_GROUP}/{parameters['v']}", wanted, encoding)
            continue
        if media_type == PROTOBUF and protobuf and wanted is None:
            return ProtobufFormat()
        if media_type == YAML and not watch and wanted is None:
            return YamlFormat()
        if media_type not in _JSON_TYPES:
            continue
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
    served = f"application/json, application/json;as=Table;v=v1;g={TABLE_GROUP}"
    if not watch:
        served += f", {YAML}"
    if protobuf:
        served += f", {PROTOBUF}"
    raise APIError(
        406, f"only the following media types are accepted: {served} (asked for {accept!r})"
    )
