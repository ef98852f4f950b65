"""The example in docs/transforms.md runs, and its fuzz test passes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[3] / "docs" / "transforms.md"


def test_the_branch_author_example_runs_and_its_property_holds() -> None:
    text = DOC.read_text()
    blocks = list(re.finditer(r"```python\n(.*?)```", text, flags=re.DOTALL))
    assert len(blocks) == 1
    # Padded so the code's line numbers are the page's: hypothesis reads the test's source back.
    padding = "\n" * text.count("\n", 0, blocks[0].start(1))
    namespace: dict[str, Any] = {"__name__": "docs_transforms_example"}
    exec(compile(padding + blocks[0].group(1), str(DOC), "exec"), namespace)
    pipeline = namespace["pipeline"]
    assert pipeline.names.index("label-target") == pipeline.names.index("add-cluster-label") + 1
    namespace["test_label_target"]()
