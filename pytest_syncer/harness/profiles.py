"""Which simulator profile each target plays; the simulator re-reads the file on change."""

from __future__ import annotations

from pytest_syncer.harness.clusters.embedded import write_profiles
from pytest_syncer.harness.environment import SyncerEnvironment
from pytest_syncer.status.profiles import PROFILES


class StatusProfiles:
    """`status_profiles.set({"target-001": "slow"})`; unnamed targets stay `default`."""

    def __init__(self, env: SyncerEnvironment) -> None:
        assert env.clusters.profiles_file is not None
        self.path = env.clusters.profiles_file
        self.env = env
        self.current: dict[str, str] = {}
        self.default = "healthy"

    def set(self, profiles: dict[str, str], *, default: str = "healthy") -> None:
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
        write_profiles(self.path, {"default": default, "clusters": clusters})

    def reset(self) -> None:
        self.set({})
