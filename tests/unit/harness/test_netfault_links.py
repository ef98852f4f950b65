"""The link model: when a chunk may be delivered, per direction, with seeded jitter."""

from __future__ import annotations

import pytest

from pytest_syncer.harness.netfaults.links import LinkModel


def test_a_healthy_link_delivers_at_once() -> None:
    model = LinkModel("target-000/upstream", seed=12)
    assert model.deliver_at("out", 10.0, 1000, 0.0) == 10.0
    assert model.describe() == "passes"


def test_latency_with_jitter_is_a_floor_and_seeded() -> None:
    def delays(seed: int) -> list[float]:
        model = LinkModel("target-000/tunnel", seed)
        model.latency(0.2, 0.05)
        return [model.deliver_at("in", 0.0, 10, 0.0) for _ in range(20)]

    drawn = delays(12)
    assert all(0.2 <= delay <= 0.25 for delay in drawn)
    assert drawn == delays(12)
    assert drawn != delays(13)


def test_order_is_kept_whatever_the_jitter() -> None:
    model = LinkModel("target-000/tunnel", seed=12)
    model.latency(0.0, 1.0, "out")
    after = 0.0
    for _ in range(50):
        delivered = model.deliver_at("out", 0.0, 1, after)
        assert delivered >= after
        after = delivered
    assert model.deliver_at("in", 0.0, 1, 0.0) == 0.0


def test_bandwidth_is_shared_by_the_direction() -> None:
    model = LinkModel("target-000/downstream", seed=12)
    model.bandwidth(1000, "out")
    assert model.deliver_at("out", 0.0, 500, 0.0) == 0.5
    assert model.deliver_at("out", 0.0, 500, 0.0) == 1.0
    assert model.deliver_at("out", 5.0, 100, 0.0) == 5.1
    assert model.describe() == "out: 1000 B/s"


def test_heal_clears_every_fault() -> None:
    model = LinkModel("target-000/tunnel", seed=12)
    model.blackhole("in")
    model.latency(1.0)
    model.refusing = True
    assert model.describe() == "reset (refusing)"
    model.refusing = False
    assert model.describe() == "out: latency 1s+0s; in: blackhole, latency 1s+0s"
    model.heal()
    assert not model.blackholed("in")
    assert model.describe() == "passes"


def test_heal_returns_to_the_baseline() -> None:
    model = LinkModel("target-000/upstream", seed=12, baseline=(0.2, 0.0))
    assert model.deliver_at("in", 1.0, 10, 0.0) == 1.2
    model.blackhole()
    model.heal()
    assert not model.blackholed("out")
    assert model.describe() == "out: latency 0.2s+0s; in: latency 0.2s+0s"


def test_nonsense_is_refused() -> None:
    model = LinkModel("target-000/tunnel", seed=12)
    with pytest.raises(ValueError, match="latency"):
        model.latency(-1)
    with pytest.raises(ValueError, match="bandwidth"):
        model.bandwidth(0)
    with pytest.raises(ValueError, match="direction"):
        model.blackhole("sideways")  # type: ignore[arg-type]
