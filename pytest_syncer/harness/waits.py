"""Waits that poll every target with a deadline and, when it passes, say per target what was
expected and what it last had, as a readable diff (kcp's e2e lesson: never "condition never
satisfied" alone)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_syncer.harness.kube import KubeObject
from pytest_syncer.harness.waiting import WaitTimeout, wait_until

SHOWN_TARGETS = 8
"""A timeout lists at most this many differing targets, then counts the rest."""
MISSING = object()


def _typed(items: Any) -> bool:
    """A list of objects keyed by `type`: Kubernetes conditions (a list-map keyed by type)."""
    return (
        isinstance(items, list)
        and bool(items)
        and all(isinstance(item, Mapping) and "type" in item for item in items)
    )


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where `actual` does not contain `expected`, one line per differing path.

    Mappings compare as subsets at every depth, lists item by item at equal length, scalars
    exactly: what the API server fills in (a container's `imagePullPolicy`, a port's
    `protocol`) is not a difference, as it is not drift to the syncer. A list of objects with a
    `type` each (conditions) is a map keyed by type: each expected entry must be one of
    `actual`'s, as a subset, in any order, and entries of other types may be there too."""
    if actual is MISSING:
        return [f"{path}: expected {_show(expected)}, had nothing"]
    if _typed(expected):
        if not isinstance(actual, list):
            return [f"{path}: expected a list, had {_show(actual)}"]
        by_type = {item.get("type"): item for item in actual if isinstance(item, Mapping)}
        return [
            line
            for item in expected
            for line in differences(
                item, by_type.get(item["type"], MISSING), f"{path}[type={item['type']}]"
            )
        ]
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [f"{path or '.'}: expected an object, had {_show(actual)}"]
        lines: list[str] = []
        for key, value in expected.items():
            lines += differences(value, actual.get(key, MISSING), f"{path}.{key}" if path else key)
        return lines
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        lines = []
        for index, (want, have) in enumerate(zip(expected, actual, strict=True)):
            lines += differences(want, have, f"{path}[{index}]")
        return lines
    if expected != actual:
        return [f"{path}: expected {_show(expected)}, had {_show(actual)}"]
    return []


def _show(value: Any) -> str:
    if value is MISSING:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


@dataclass
class Observation:
    """What one round of a wait saw: the differing lines per target (empty when all hold)."""

    what: str
    per_target: dict[str, list[str]] = field(default_factory=dict)
    checked: int = 0

    @property
    def ok(self) -> bool:
        return not any(self.per_target.values())

    def __repr__(self) -> str:
        failing = {name: lines for name, lines in self.per_target.items() if lines}
        if not failing:
            return f"all {self.checked} targets as expected"
        out = [f"{len(failing)} of {self.checked} targets differ:"]
        for name in sorted(failing)[:SHOWN_TARGETS]:
            out.append(f"  {name}:")
            out += [f"    - {line}" for line in failing[name]]
        if len(failing) > SHOWN_TARGETS:
            out.append(f"  ... and {len(failing) - SHOWN_TARGETS} more")
        return "\n" + "\n".join(out)


def poll(
    what: str,
    names: Iterable[str],
    check: Callable[[str], list[str]],
    timeout: float,
    interval: float = 0.2,
    give_up: Callable[[], str | None] | None = None,
) -> Observation:
    """Run `check` for each name until every one returns no differences (or `give_up` gives a
    reason why they never will)."""
    chosen = list(names)

    def observe() -> Observation:
        seen = Observation(what, checked=len(chosen))
        for name in chosen:
            try:
                seen.per_target[name] = check(name)
            except Exception as error:
                seen.per_target[name] = [f"could not look: {type(error).__name__}: {error}"]
        return seen

    return wait_until(
        observe,
        lambda seen: seen.ok,
        what=what,
        timeout=timeout,
        interval=interval,
        give_up=give_up,
    )


def hold(
    what: str,
    check: Callable[[], list[str]],
    closed: Callable[[], bool],
    *,
    timeout: float,
    polls: int = 5,
    interval: float = 0.2,
) -> int:
    """`check` must find nothing wrong on every poll of a window that ends once `closed()`
    holds and at least `polls` polls were made: the state stays, not only is, as expected.
    Fails at the first poll that finds something, saying which poll and what it found; a
    window still open after `timeout` fails too. Returns the polls made."""
    deadline = time.monotonic() + timeout
    made = 0
    while True:
        lines = check()
        made += 1
        if lines:
            found = "\n".join(f"  - {line}" for line in lines)
            raise AssertionError(
                f"{what}: held for {made - 1} polls, then poll {made} had:\n{found}"
            )
        if made >= polls and closed():
            return made
        if time.monotonic() >= deadline:
            raise WaitTimeout(
                f"{what}: held for {made} polls, but the window never closed within {timeout:g}s"
            )
        time.sleep(interval)


def expect_absent(found: KubeObject | None, where: str) -> list[str]:
    if found is None:
        return []
    deleting = " (being deleted)" if found["metadata"].get("deletionTimestamp") else ""
    return [f"expected no copy in {where}, had one{deleting}"]


def leaf_paths(obj: Mapping[str, Any], prefix: str = "") -> list[str]:
    """The dotted paths of every non-mapping value in `obj`."""
    paths: list[str] = []
    for key, value in obj.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            paths += leaf_paths(value, path)
        else:
            paths.append(path)
    return paths


def render_grid(header: list[str], rows: list[list[str]], width: int = 24) -> str:
    """A plain-text table with aligned columns, each cell cut to `width` characters."""

    def cut(cell: str) -> str:
        return cell if len(cell) <= width else cell[: width - 3] + "..."

    table = [[cut(cell) for cell in row] for row in [header, *rows]]
    columns = max(len(row) for row in table)
    sizes = [max(len(row[i]) for row in table if i < len(row)) for i in range(columns)]
    lines = [
        "  ".join(cell.ljust(sizes[i]) for i, cell in enumerate(row)).rstrip() for row in table
    ]
    lines.insert(1, "  ".join("-" * size for size in sizes))
    return "\n".join(lines)
