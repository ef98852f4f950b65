"""The collector's generation translation: upstream terms, never backwards."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.syncer.engine.spec import UPSTREAM_GENERATION_ANNOTATION
from pytest_syncer.syncer.engine.status_collector import upstream_observed_generation

GENERATIONS = st.integers(1, 20)


def copy(stamped: int | None, own: int, observed: int | None) -> dict:
    annotations = {} if stamped is None else {UPSTREAM_GENERATION_ANNOTATION: str(stamped)}
    status = {} if observed is None else {"observedGeneration": observed}
    return {"metadata": {"generation": own, "annotations": annotations}, "status": status}


@given(st.none() | GENERATIONS, GENERATIONS, st.none() | GENERATIONS, st.none() | GENERATIONS)
def test_caught_up_means_the_stamped_generation_otherwise_the_last_reached(
    stamped, own, observed, last
) -> None:
    result = upstream_observed_generation(copy(stamped, own, observed), last)
    caught_up = stamped is not None and observed is not None and observed >= own
    if caught_up:
        assert result == max(stamped, last or 0)
    else:
        assert result == last
    if last is not None:
        assert result is not None
        assert result >= last
