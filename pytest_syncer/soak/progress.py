"""What a soak says on the way: one line per event on stderr, so the last stdout line stays the
JSON result."""

from __future__ import annotations

import sys


def say(message: str) -> None:
    print(f"pytest-syncer soak: {message}", file=sys.stderr, flush=True)
