"""The field-number data (``fields.json``): which message a kind is, and each message's fields.

The numbers are facts of the Kubernetes API, carried over from the ``generated.proto`` files
named at the top of ``fields.json``; the JSON names, ``omitempty`` and pointer flags come from
the same packages' Go struct tags, because they decide which zero values a Go client writes
and which the JSON form leaves out.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

SCALARS = frozenset({"string", "int32", "int64", "bool", "bytes", "double"})
META = "k8s.io.apimachinery.pkg.apis.meta.v1."
#: meta.k8s.io kinds that travel under any group's apiVersion (``v1`` Status, DeleteOptions).
META_KINDS = frozenset(
    {"Status", "DeleteOptions", "PartialObjectMetadata", "PartialObjectMetadataList"}
)


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a message; ``json_name`` is empty for a struct inlined into its parent."""

    json_name: str
    number: int
    type: str
    repeated: bool
    map: bool
    omitempty: bool
    pointer: bool
    inline: bool

    @property
    def scalar(self) -> bool:
        return self.type in SCALARS


@dataclass(frozen=True)
class Schema:
    kinds: dict[str, str]
    messages: dict[str, tuple[Field, ...]]
    by_number: dict[str, dict[int, Field]]
    #: Messages that are a list of strings in JSON (``ExtraValue``): one repeated ``items``.
    wrappers: frozenset[str]

    def message_of(self, api_version: str, kind: str) -> str | None:
        """The message of ``kind`` in ``api_version``; None when it has no protobuf form."""
        if kind in META_KINDS:
            return META + kind
        return self.kinds.get(f"{api_version}/{kind}")


def _field(row: list[Any]) -> Field:
    name, number, type_, flags = row
    return Field(
        name, number, type_, "r" in flags, "m" in flags, "o" in flags, "p" in flags, "i" in flags
    )


@functools.cache
def schema() -> Schema:
    """The data, loaded once."""
    text = resources.files(__package__).joinpath("fields.json").read_text()
    data = json.loads(text)
    messages = {name: tuple(_field(row) for row in rows) for name, rows in data["messages"].items()}
    return Schema(
        kinds=data["kinds"],
        messages=messages,
        by_number={name: {f.number: f for f in fields} for name, fields in messages.items()},
        wrappers=frozenset(data["wrappers"]),
    )
