"""Condition bookkeeping and the API's timestamps, shared by everything that writes a status.

Rules and simulated controllers compute conditions without times, so they stay pure and
comparable; the writer stamps `lastTransitionTime` against what the object shows now, which
keeps a condition's time still while its status holds and makes an unchanged status a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any


def rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp_transitions(
    conditions: Sequence[Mapping[str, Any]],
    previous: Sequence[Mapping[str, Any]],
    now: str,
) -> list[dict[str, Any]]:
    """Give each condition a `lastTransitionTime`: kept while its status holds, `now` when it flips.

    Conditions that carry one already (a single target's, passed through) keep theirs.
    """
    before = {c.get("type"): c for c in previous if isinstance(c, Mapping)}
    stamped = []
    for condition in conditions:
        out = dict(condition)
        if "lastTransitionTime" not in out:
            old = before.get(out.get("type"))
            same = old is not None and old.get("status") == out.get("status")
            out["lastTransitionTime"] = old.get("lastTransitionTime", now) if same and old else now
        stamped.append(out)
    return stamped
