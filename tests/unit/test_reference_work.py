"""The reference work is the same work on every machine and every run (fixed digests), and it
is timed in CPU milliseconds."""

from __future__ import annotations

from pytest_syncer.bench.reference_work import ROUNDS, reference_work

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
