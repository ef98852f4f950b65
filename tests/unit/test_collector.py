"""A service settles its garbage collector once ready (process/collector.py)."""

import gc
from collections.abc import Iterator

import pytest

from pytest_syncer.process.collector import YOUNG_THRESHOLD, settle_after_start


@pytest.fixture
def restored_collector() -> Iterator[None]:
    """The test process's own collector, as it was: settling is meant for a service process."""
    threshold = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_collector")
def test_settling_freezes_what_lives_and_spaces_young_collections() -> None:
    kept = [{"alive": index} for index in range(1000)]
    _, older, oldest = gc.get_threshold()
    frozen = settle_after_start()
    assert frozen == gc.get_freeze_count() >= len(kept)
    assert gc.get_threshold() == (YOUNG_THRESHOLD, older, oldest)
    walked = {id(obj) for obj in gc.get_objects()}
    assert not any(id(obj) in walked for obj in kept), "a live object is still walked"


@pytest.mark.usefixtures("restored_collector")
def test_settling_collects_cyclic_garbage_before_freezing() -> None:
    gc.collect()
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    frozen = settle_after_start()
    gc.unfreeze()
    assert gc.collect() == 0, f"{frozen} frozen, yet garbage was left to collect"
