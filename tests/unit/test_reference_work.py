"""The reference work is the same work on every machine and every run (fixed digests), it is
timed in CPU milliseconds, and a run's samples of it give their median and range."""

from __future__ import annotations

from pytest_syncer.bench.reference_work import (
    ROUNDS,
    SLICE_ROUNDS,
    ReferenceSamples,
    reference_work,
)

# What the work computes, written down when it was made: a change to the work changes these,
# and figures measured before it no longer compare with those after.
THREE_ROUNDS = "8865f7d5d62ae11cd417cbbe3408c958c2913c8385e2817c4d99bf256d43ba8c"
ALL_ROUNDS = "bf0b67059618ecd6ed7e726c15b73cc20e06fe19ffcc3dda78f133cbdfec7afd"


def test_a_few_rounds_compute_the_fixed_digest() -> None:
    assert reference_work(3).digest == THREE_ROUNDS


def test_every_round_differs_so_no_round_repeats_another() -> None:
    assert reference_work(2).digest != reference_work(1).digest


def test_the_full_work_computes_its_fixed_digest_in_cpu_milliseconds() -> None:
    work = reference_work()
    assert work.digest == ALL_ROUNDS, f"the work changed ({ROUNDS} rounds)"
    # CPU time of a few hundred milliseconds' work: a clock that stood still reads 0.
    assert 1 < work.cpu_ms < 60_000


def test_no_sample_no_figure() -> None:
    assert ReferenceSamples().figure() is None


def test_samples_are_slices_scaled_to_the_whole_work() -> None:
    samples = ReferenceSamples()
    for _ in range(5):
        samples.take()
    figure = samples.figure()
    assert figure is not None
    assert figure.samples == 5
    assert 0 < figure.low_ms <= figure.median_ms <= figure.high_ms
    # A slice is SLICE_ROUNDS of the ROUNDS: scaled, it is within a factor of the whole work
    # measured now (the machine's speed switches within seconds, hence the wide bounds).
    whole = reference_work().cpu_ms
    assert whole / 4 < figure.median_ms < whole * 4, (figure, whole, ROUNDS / SLICE_ROUNDS)
