"""Log lines that start with `target=<name>`, so a pooled process's log greps by target."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any


class TargetLog(logging.LoggerAdapter[logging.Logger]):
    def __init__(self, logger: logging.Logger, target: str) -> None:
        super().__init__(logger, {"target": target})
        self.target = target

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        return f"target={self.target} {msg}", kwargs
