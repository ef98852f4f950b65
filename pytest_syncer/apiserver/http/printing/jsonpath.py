"""The small JSONPath subset CRD printer columns use, evaluated leniently."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pytest_syncer.apiserver.http.printing.formatting import value_at

_PATH_TOKEN = re.compile(
    r"\.(?P<name>[^.\[]+)|\[(?P<index>\d+|\*)\]|\[\?\(@\.(?P<key>[\w.-]+)\s*==\s*"
    r"(?P<quote>[\"'])(?P<value>.*?)(?P=quote)\)\]"
)


def json_path(obj: Any, path: str) -> list[Any]:
    """Evaluate the simple JSONPath that CRD printer columns use (``.a.b``, ``[0]``, ``[*]``,
    ``[?(@.type=="Ready")]``); unsupported or missing paths give no values."""
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    current = [obj]
    position = 0
    while position < len(text):
        match = _PATH_TOKEN.match(text, position)
        if match is None:
            return []
        position = match.end()
        current = _step(current, match)
    return [value for value in current if value is not None]


def _step(values: list[Any], match: re.Match[str]) -> list[Any]:
    found: list[Any] = []
    for value in values:
        if match.group("name") is not None:
            if isinstance(value, Mapping) and match.group("name") in value:
                found.append(value[match.group("name")])
        elif match.group("index") is not None:
            if isinstance(value, list):
                if match.group("index") == "*":
                    found.extend(value)
                elif int(match.group("index")) < len(value):
                    found.append(value[int(match.group("index"))])
        elif isinstance(value, list):
            key, wanted = match.group("key"), match.group("value")
            found.extend(item for item in value if str(value_at(item, key, "")) == wanted)
    return found
