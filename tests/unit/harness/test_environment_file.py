"""`environment.json`: what is written is read back, wildcards included, and a file written
before wildcards existed (same version, no `wildcards` key) still reads, with none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_syncer.harness.environment_file import (
    EnvironmentFacts,
    EnvironmentFileError,
    TargetFacts,
    WildcardFacts,
)

#: A file as `pytest-syncer up` wrote it before `wildcards` (main at c35c43f).
OLDER_FILE = {
    "version": 1,
    "pid": 4242,
    "process_groups": [4250],
    "provider": "embedded",
    "started": "2026-12-06T18:12:00Z",
    "hub": {"url": "https://127.0.0.1:40123", "ca": "/env/hub-state/ca.crt"},
    "upstream": {"cluster": "upstream", "kubeconfig": "/env/kubeconfigs/upstream.kubeconfig"},
    "targets": {"target-000": {"kubeconfig": "/env/k/t0", "key": "k0", "label": "l0", "uid": "u0"}},
    "profiles_file": "/env/profiles.json",
    "ready_seconds": 41.2,
    "processes": {"apiserver": {"pid": 4250, "rss_kib": 812000}},
}


def test_wildcards_are_written_and_read_back(tmp_path: Path) -> None:
    facts = EnvironmentFacts(
        pid=1,
        process_groups=[2],
        provider="embedded",
        started="2026-12-07T00:00:00Z",
        hub={"url": "https://127.0.0.1:1", "ca": "/ca"},
        upstream={"cluster": "upstream", "kubeconfig": "/u"},
        targets={"target-000": TargetFacts("/t0", "k0", "l0", "u0")},
        profiles_file=None,
        wildcards=[WildcardFacts("/admin", "*", {"target-000": "target-000"})],
    )
    facts.write(tmp_path)
    written = json.loads((tmp_path / "environment.json").read_text())
    assert written["wildcards"] == [
        {"kubeconfig": "/admin", "context": "*", "targets": {"target-000": "target-000"}}
    ]
    assert EnvironmentFacts.read(tmp_path) == facts


def test_a_file_from_before_wildcards_reads_with_none(tmp_path: Path) -> None:
    (tmp_path / "environment.json").write_text(json.dumps(OLDER_FILE))
    facts = EnvironmentFacts.read(tmp_path)
    assert facts.wildcards == []
    assert facts.targets == {"target-000": TargetFacts("/env/k/t0", "k0", "l0", "u0")}


def test_another_version_is_refused_with_both_named(tmp_path: Path) -> None:
    (tmp_path / "environment.json").write_text(json.dumps({**OLDER_FILE, "version": 2}))
    with pytest.raises(EnvironmentFileError, match="has version 2; this pytest-syncer reads 1"):
        EnvironmentFacts.read(tmp_path)
