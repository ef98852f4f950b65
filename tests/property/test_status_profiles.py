"""Simulated readiness only grows with time, and the promised next change is when it grows."""

from __future__ import annotations

import math

from hypothesis import example, given
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

WAKE_UP_LATENESS = 1e-6
"""How late after the promised instant the simulator may look and still must see the change."""


@given(PROFILES, st.integers(0, 40), TIMES, TIMES)
def test_readiness_never_shrinks_and_never_passes_the_profile(profile, replicas, t1, t2) -> None:
    early, late = sorted((t1, t2))
    ready_early, _ = ready_count(profile, replicas, early)
    ready_late, _ = ready_count(profile, replicas, late)
    assert 0 <= ready_early <= ready_late <= replicas


@given(PROFILES, st.integers(1, 40), TIMES)
# The smallest float as a delay: 0.999 * 5e-324 rounds back to 5e-324, so an oracle that looked
# "just before" the change at elapsed + 0.999 * next_change looked at the change itself.
@example(Profile("p", delay=5e-324), 1, 0.0)
# A change due below the float resolution at `elapsed`, in the delay and in a step.
@example(Profile("p", delay=1.0, step=0.5), 3, math.nextafter(1.0, 0))
# Two billionths of a step before a replica is due: it used to be ready already, a billionth of
# a step before the change the function promised.
@example(Profile("p", delay=0.0, step=1.0), 3, 1 - 2e-9)
def test_nothing_changes_before_the_next_change_and_something_does_at_it(
    profile, replicas, elapsed
) -> None:
    ready, next_change = ready_count(profile, replicas, elapsed)
    if next_change is None:
        assert ready_count(profile, replicas, elapsed + 1000)[0] == ready
        return
    assert next_change > 0
    change_at = elapsed + next_change
    # next_change and this sum each round by up to half an ulp: the change is due within an ulp
    # of change_at either side, so two ulps below it is surely before it.
    last_instant_before = max(elapsed, change_at - 2 * math.ulp(change_at))
    assert ready_count(profile, replicas, last_instant_before)[0] == ready, (
        f"ready changed at {last_instant_before!r}, before the promised {change_at!r}"
    )
    assert ready_count(profile, replicas, change_at + WAKE_UP_LATENESS)[0] > ready
