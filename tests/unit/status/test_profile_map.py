"""Which profile the simulator plays for an object: its label, its cluster's, the default."""

from __future__ import annotations

import pytest

from pytest_syncer.status.profiles import PROFILE_LABEL
from pytest_syncer.status.simulator import ProfileMap


def labelled(profile: str | None) -> dict:
    return {"metadata": {"labels": {} if profile is None else {PROFILE_LABEL: profile}}}


def test_label_then_cluster_then_default() -> None:
    profiles = ProfileMap.from_json(
        {
            "default": "slow",
            "clusters": {"east": "never-ready", "west": "mine"},
            "profiles": {"mine": {"delay": 3, "readyFraction": 0.5}},
        }
    )
    assert profiles.profile_for("east", labelled("failing-job")).name == "failing-job"
    assert profiles.profile_for("east", labelled(None)).name == "never-ready"
    assert profiles.profile_for("west", labelled(None)).ready_fraction == 0.5
    assert profiles.profile_for("north", labelled(None)).name == "slow"
    assert profiles.profile_for("north", labelled("no-such-profile")).name == "slow"


def test_command_line_assignments_win_over_the_file() -> None:
    profiles = ProfileMap.from_json({"clusters": {"east": "slow"}})
    assert profiles.with_clusters({"east": "healthy"}).profile_for("east", labelled(None)).name == (
        "healthy"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"default": "sleepy"}, "unknown profile 'sleepy'"),
        ({"clusters": {"east": "sleepy"}}, "unknown profile 'sleepy'"),
        ({"cluster": {}}, "unknown fields"),
    ],
)
def test_bad_profile_maps_are_refused(data: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProfileMap.from_json(data)
