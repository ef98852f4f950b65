"""How kubectl's printers show values: ages, label selectors, labels, and lenient field access.

The printers read objects that may be partial or malformed: every accessor returns a default
rather than raising, as Kubernetes' printers (``pkg/printers/internalversion``) tolerate
whatever the object holds.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from pytest_syncer.apiserver.api.selectors import selector_text

NONE = "<none>"


def human_duration(seconds: float) -> str:
    """Kubernetes' HumanDuration: ``5s``, ``3m2s``, ``10m``, ``2h5m``, ``2d3h``, ``3y10d``..."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        rest = whole % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def parse_timestamp(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def since(value: Any, now: datetime.datetime) -> str:
    """Age of a timestamp the way kubectl shows it; ``<unknown>`` when there is none."""
    moment = parse_timestamp(value)
    if moment is None:
        return "<unknown>"
    return human_duration((now - moment).total_seconds())


def value_at(obj: Any, path: str, default: Any = None) -> Any:
    current = obj
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return default
        current = current[part]
    return default if current is None else current


def list_at(obj: Any, path: str) -> list[Any]:
    value = value_at(obj, path, [])
    return value if isinstance(value, list) else []


def map_at(obj: Any, path: str) -> Mapping[str, Any]:
    value = value_at(obj, path)
    return value if isinstance(value, Mapping) else {}


def maps_at(obj: Any, path: str) -> list[Mapping[str, Any]]:
    """The objects in the list at ``path``, skipping anything that is not an object."""
    return [item for item in list_at(obj, path) if isinstance(item, Mapping)]


def str_at(obj: Any, path: str, default: str = "") -> str:
    value = value_at(obj, path)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return default
    return str(value) or default


def size_at(obj: Any, path: str) -> int:
    value = value_at(obj, path)
    return len(value) if isinstance(value, Mapping | list) else 0


def int_at(obj: Any, path: str, default: int = 0) -> int:
    value = value_at(obj, path, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def age(obj: Mapping[str, Any], now: datetime.datetime) -> str:
    return since(value_at(obj, "metadata.creationTimestamp"), now)


def container_cells(pod_spec: Any) -> tuple[str, str]:
    containers = [c for c in list_at(pod_spec, "containers") if isinstance(c, Mapping)]
    return (
        ",".join(str(c.get("name", "")) for c in containers),
        ",".join(str(c.get("image", "")) for c in containers),
    )


def format_label_selector(selector: Any) -> str:
    """metav1.FormatLabelSelector: the selector as text, ``<none>`` when it is empty."""
    return selector_text(selector, "<error>") or NONE


def format_labels(labels: Any) -> str:
    """labels.FormatLabels: sorted ``k=v`` pairs, ``<none>`` when empty."""
    if not isinstance(labels, Mapping) or not labels:
        return NONE
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


def is_deleting(obj: Mapping[str, Any]) -> bool:
    return bool(value_at(obj, "metadata.deletionTimestamp"))


def condition_true(conditions: list[Any], kind: str) -> bool:
    for condition in conditions:
        if isinstance(condition, Mapping) and condition.get("type") == kind:
            return condition.get("status") == "True"
    return False
