"""Input the server rewrites before storing it.

Sources: kubernetes/kubernetes ``pkg/apis/core/v1/conversion.go``
(``Convert_v1_Secret_To_core_Secret``): ``stringData`` is write-only, each key merged into
``data`` base64-encoded (overriding ``data``'s value for that key), and never stored or returned;
``k8s.io/apimachinery/pkg/apis/meta/v1/time.go`` (``Time.MarshalJSON``: RFC 3339 in UTC to the
second), so a timestamp a client sends in another spelling is stored in that one; a typed list's
items are encoded without their type meta (the conversion of a list to its version leaves the
items' ``TypeMeta`` empty), an unstructured (custom resource) list's keep it.
"""

from __future__ import annotations

import base64
import datetime
import re
from typing import Any

_CANONICAL_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
"""A timestamp already spelt as the server writes it: every write re-reads the stored
``managedFields`` times, and parsing each one again would give back the same text."""


def secret_string_data(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with ``stringData`` folded into ``data``; values of the wrong type stay for
    validation to refuse."""
    string_data = obj.get("stringData")
    if "stringData" not in obj:
        return obj
    result = {k: v for k, v in obj.items() if k != "stringData"}
    if not isinstance(string_data, dict):
        if string_data is not None:
            result["stringData"] = string_data
        return result
    data = result.get("data")
    if data is not None and not isinstance(data, dict):
        result["stringData"] = string_data
        return result
    merged = dict(data or {})
    for key, value in string_data.items():
        if not isinstance(value, str):
            result["stringData"] = string_data
            return result
        merged[key] = base64.b64encode(value.encode()).decode()
    result["data"] = merged
    return result


def rfc3339_seconds(value: Any) -> Any:
    """A timestamp as ``metav1.Time`` writes it back (UTC, seconds, ``Z``): a client may send
    ``+00:00`` or fractions (the Python client does), the server stores what it decoded."""
    if not isinstance(value, str) or _CANONICAL_TIME.fullmatch(value):
        return value
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value  # left for validation
    if parsed.tzinfo is None:
        return value
    return parsed.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def managed_fields_times(entries: Any) -> Any:
    """``managedFields`` entries with their ``time`` as the server writes it back."""
    if not isinstance(entries, list):
        return entries
    return [
        {**entry, "time": rfc3339_seconds(entry["time"])}
        if isinstance(entry, dict) and "time" in entry
        else entry
        for entry in entries
    ]


TYPE_FIELDS = ("apiVersion", "kind")


def list_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A built-in type's list items as the real server writes them: without ``apiVersion`` and
    ``kind`` (the list's own say what they are; custom resources' items keep theirs)."""
    return [{k: v for k, v in item.items() if k not in TYPE_FIELDS} for item in items]
