"""Simulated readiness only grows with time, and the promised next change is when it grows."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.status.profiles import Profile, ready_count

PROFILES = st.builds(
    Profile,
    name=st.just("p"),
    delay=st.floats(0, 5),
    step=st.floats(0, 3),
    ready_fraction=st.floats(0, 1),
)
TIMES = st.floats(0, 30)


@given(PROFILES, st.integers(0, 40), TIMES, TIMES)
def test_readiness_never_shrinks_and_never_passes_the_profile(profile, replicas, t1, t2) -> None:
    early, late = sorted((t1, t2))
    ready_early, _ = ready_count(profile, replicas, early)
    ready_late, _ = ready_count(profile, replicas, late)
    assert 0 <= ready_early <= ready_late <= replicas


@given(PROFILES, st.integers(1, 40), TIMES)
def test_nothing_changes_before_the_next_change_and_something_does_at_it(
    profile, replicas, elapsed
) -> None:
    ready, next_change = ready_count(profile, replicas, elapsed)
    if next_change is None:
        assert ready_count(profile, replicas, elapsed + 1000)[0] == ready
        return
    assert next_change > 0
    assert ready_count(profile, replicas, elapsed + next_change * 0.999)[0] == ready
    assert ready_count(profile, replicas, elapsed + next_change + 1e-6)[0] > ready
