"""What artifacts show: secrets taken out, objects trimmed, grids aligned, records of dead
owners told from live ones."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from pytest_syncer.harness.artifacts import REDACTED, Redactor
from pytest_syncer.harness.leftovers import OwnerRecord, sweep
from pytest_syncer.harness.waits import leaf_paths, render_grid
from pytest_syncer.process.proc import process_start

TOKEN = "v1.upstream.target-000.1767225600.4f9c2ab7e1d0"


def test_known_secrets_and_token_shapes_are_redacted() -> None:
    redact = Redactor([TOKEN, "short"])
    text = (
        f"dialled with {TOKEN}\n"
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.signature\n"
        "users:\n- name: admin\n  user:\n    token: 0123456789abcdef\n"
        '{"token": "abcdefghijkl", "other": 1}\n'
        "tunnel connected (token sha256:a8db78da17ac)\n"
        "short stays\n"
    )
    shown = redact(text)
    assert TOKEN not in shown
    assert "eyJhbGciOiJIUzI1NiJ9" not in shown
    assert "0123456789abcdef" not in shown
    assert "abcdefghijkl" not in shown
    assert shown.count(REDACTED) == 4
    assert "(token sha256:a8db78da17ac)" in shown  # a fingerprint, not a secret
    assert "short stays" in shown  # too short to be a secret of ours


def test_objects_lose_managed_fields_and_secret_values() -> None:
    redact = Redactor([])
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "managedFields": [{"manager": "x"}]},
        "data": {"password": "aHVudGVyMg=="},
    }
    shown = redact.object(secret)
    assert shown["data"] == {"password": REDACTED}
    assert "managedFields" not in shown["metadata"]
    assert secret["data"] == {"password": "aHVudGVyMg=="}  # the original is untouched


def test_grid_columns_align_and_long_cells_are_cut() -> None:
    assert leaf_paths({"replicas": 2, "conditions": {"Available": "True"}}) == [
        "replicas",
        "conditions.Available",
    ]
    grid = render_grid(["", "replicas"], [["target-000", "2"], ["aggregate", "x" * 40]], width=10)
    lines = grid.splitlines()
    assert lines[0] == "            replicas"
    assert lines[1] == "----------  ----------"
    assert lines[2] == "target-000  2"
    assert lines[3] == "aggregate   xxxxxxx..."


def test_a_live_owner_is_never_swept(tmp_path: Path) -> None:
    started = process_start(os.getpid())
    assert started is not None
    mine = OwnerRecord(os.getpid(), started, str(tmp_path / "env"))
    assert mine.owner_alive()
    reused = OwnerRecord(os.getpid(), str(int(started) + 1), str(tmp_path / "env"))
    assert not reused.owner_alive()  # the same pid, another process


def test_a_kept_environment_that_was_stopped_is_swept(tmp_path: Path) -> None:
    workdir = tmp_path / "kept"
    workdir.mkdir()
    records = tmp_path / "owners"
    records.mkdir()
    gone = OwnerRecord(2**22 + 7, "1", str(workdir), [], kept=True)  # beyond pid_max
    (records / "x.json").write_text(json.dumps(dataclasses.asdict(gone)))
    [line] = sweep(tmp_path)
    assert line.startswith("removed a kept environment, stopped since (pytest pid")
    assert not workdir.exists()
    assert list(records.iterdir()) == []
