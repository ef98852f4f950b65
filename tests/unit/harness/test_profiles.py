"""`status_profiles.set()` returns only once the simulator confirmed the profiles it wrote."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_syncer.harness.profiles import StatusProfiles
from pytest_syncer.harness.waiting import WaitTimeout
from pytest_syncer.status.simulator import applied_path


def environment(tmp_path: Path, timeout: float) -> Any:
    """What `StatusProfiles` reads of an environment: targets, kubeconfigs, the profiles file."""
    profiles = tmp_path / "profiles.json"
    profiles.write_text(json.dumps({"default": "healthy", "clusters": {}}))
    kubeconfigs = {name: tmp_path / f"{name}.kubeconfig" for name in ("target-000", "target-001")}
    return SimpleNamespace(
        targets=dict.fromkeys(kubeconfigs),
        clusters=SimpleNamespace(profiles_file=profiles, downstream_kubeconfigs=kubeconfigs),
        config=SimpleNamespace(timeout=timeout),
    )


def test_set_waits_for_the_simulators_confirmation(tmp_path: Path) -> None:
    env = environment(tmp_path, timeout=5.0)
    profiles = env.clusters.profiles_file
    confirmed = applied_path(profiles)
    written = threading.Event()

    def simulator() -> None:
        """Confirms what the file says, late, as the simulator's 0.2 s re-read would."""
        while not written.wait(0.3):
            data = json.loads(profiles.read_text())
            if "generation" in data:
                confirmed.write_text(json.dumps({"generation": data["generation"]}))
                written.set()

    playing = threading.Thread(target=simulator)
    playing.start()
    try:
        StatusProfiles(env).set({"target-001": "slow"})
        assert json.loads(confirmed.read_text()) == {"generation": 1}
    finally:
        written.set()
        playing.join()
    assert json.loads(profiles.read_text())["clusters"] == {"target-001": "slow"}


def test_set_fails_when_the_simulator_never_confirms(tmp_path: Path) -> None:
    env = environment(tmp_path, timeout=0.5)
    applied_path(env.clusters.profiles_file).write_text(json.dumps({"generation": 0}))
    with pytest.raises(WaitTimeout, match=r"confirming profiles generation 1 .*last seen: 0"):
        StatusProfiles(env).set({"target-000": "never-ready"})


def test_each_set_asks_for_a_newer_generation(tmp_path: Path) -> None:
    env = environment(tmp_path, timeout=0.3)
    profiles = env.clusters.profiles_file
    for expected in (1, 2):
        with pytest.raises(WaitTimeout):
            StatusProfiles(env).set({})
        assert json.loads(profiles.read_text())["generation"] == expected
