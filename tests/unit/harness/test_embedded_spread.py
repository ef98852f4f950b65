"""How the embedded provider spreads logical clusters over its API server processes."""

from __future__ import annotations

import pytest

from pytest_syncer.harness.clusters.embedded import UPSTREAM, spread

TARGETS = [f"target-{index:03}" for index in range(7)]


def test_one_process_serves_everything_as_before() -> None:
    assert spread(TARGETS, 1) == [[UPSTREAM, *TARGETS]]


def test_the_upstream_has_process_zero_to_itself() -> None:
    assert spread(TARGETS, 2) == [[UPSTREAM], TARGETS]


def test_targets_go_in_contiguous_blocks_that_differ_by_at_most_one() -> None:
    assert spread(TARGETS, 4) == [[UPSTREAM], TARGETS[:3], TARGETS[3:5], TARGETS[5:]]


@pytest.mark.parametrize("processes", [2, 3, 5, 8, 20])
def test_every_cluster_once_and_no_process_empty(processes: int) -> None:
    served = spread(TARGETS, processes)
    assert [name for names in served for name in names] == [UPSTREAM, *TARGETS]
    assert all(served)
    assert len(served) == min(processes, len(TARGETS) + 1)
