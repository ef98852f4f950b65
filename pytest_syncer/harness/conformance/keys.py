"""Where a test's resolved behaviour IDs are kept, for the plugin and the fixtures alike."""

from __future__ import annotations

import pytest

BEHAVIOURS_KEY = pytest.StashKey[list[str]]()
"""On each collected test: the IDs its `conformance` markers name, parameters filled in."""
