"""Input the server rewrites before storing it.

Source: kubernetes/kubernetes ``pkg/apis/core/v1/conversion.go``
(``Convert_v1_Secret_To_core_Secret``): ``stringData`` is write-only, each key merged into
``data`` base64-encoded (overriding ``data``'s value for that key), and never stored or returned.
"""

from __future__ import annotations

import base64
from typing import Any


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
