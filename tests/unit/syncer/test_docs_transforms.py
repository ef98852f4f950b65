"""The example in docs/transforms.md runs, and its fuzz test passes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[3] / "docs" / "transforms.md"


def test_the_branch_author_example_runs_and_its_property_holds() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert len(blocks) == 1
    namespace: dict[str, Any] = {"__name__": "docs_transforms_example"}
    exec(compile(blocks[0], str(DOC), "exec"), namespace)
    pipeline = namespace["pipeline"]
    assert pipeline.names.index("label-target") == pipeline.names.index("add-cluster-label") + 1
    namespace["test_label_target"]()
