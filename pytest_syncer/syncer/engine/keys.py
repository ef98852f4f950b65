"""The engine's unit of work: one upstream object, whatever changed about it above or below."""

from __future__ import annotations

from typing import NamedTuple


class WorkKey(NamedTuple):
    """An upstream object by resource (`deployments.apps`), namespace and name."""

    resource: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.resource} {self.namespace}/{self.name}"
