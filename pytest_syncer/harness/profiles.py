"""Which simulator profile each target plays; the simulator re-reads the file on change."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_syncer.harness.clusters.embedded import write_profiles
from pytest_syncer.harness.environment import SyncerEnvironment
from pytest_syncer.harness.waiting import wait_until
from pytest_syncer.status.profiles import PROFILES
from pytest_syncer.status.simulator import applied_path


def _generation(path: Path) -> int | None:
    """The `generation` a profiles file (or the simulator's confirmation) names, if any."""
    try:
        value = json.loads(path.read_text()).get("generation")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


class StatusProfiles:
    """`status_profiles.set({"target-001": "slow"})`; unnamed targets stay `default`."""

    def __init__(self, env: SyncerEnvironment) -> None:
        assert env.clusters.profiles_file is not None
        self.path = env.clusters.profiles_file
        self.env = env
        self.current: dict[str, str] = {}
        self.default = "healthy"

    def set(self, profiles: dict[str, str], *, default: str = "healthy") -> None:
        """Write the profiles and return once the simulator confirmed it plays them: a copy
        created after this returns is never played with the profiles they replaced."""
        unknown = {name for name in [*profiles.values(), default] if name not in PROFILES}
        if unknown:
            raise ValueError(f"unknown profiles {sorted(unknown)}; known: {sorted(PROFILES)}")
        missing = set(profiles) - set(self.env.targets)
        if missing:
            raise ValueError(f"unknown targets {sorted(missing)}")
        self.current, self.default = dict(profiles), default
        clusters = {
            self.env.clusters.downstream_kubeconfigs[t].stem: p for t, p in profiles.items()
        }
        generation = (_generation(self.path) or 0) + 1
        write_profiles(
            self.path, {"default": default, "clusters": clusters, "generation": generation}
        )
        confirmed = applied_path(self.path)
        wait_until(
            lambda: _generation(confirmed),
            lambda applied: applied == generation,
            what=f"the simulator confirming profiles generation {generation} in {confirmed} "
            "(it re-reads the profiles file every 0.2 s; the last generation it confirmed "
            "is shown)",
            timeout=self.env.config.timeout,
            interval=0.05,
        )

    def reset(self) -> None:
        self.set({})
