"""Quantities as the quota controller adds them: parsed exactly, printed in canonical form."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.apiserver.controllers.resource_quota import format_quantity, parse_quantity


@pytest.mark.parametrize(
    ("text", "value", "binary"),
    [
        ("1Gi", Fraction(2**30), True),
        ("500m", Fraction(1, 2), False),
        ("2", Fraction(2), False),
        ("1.5", Fraction(3, 2), False),
        ("1e3", Fraction(1000), False),
        ("128M", Fraction(128 * 10**6), False),
    ],
)
def test_parse(text: str, value: Fraction, binary: bool) -> None:
    assert parse_quantity(text) == (value, binary)


def test_format_is_canonical() -> None:
    assert format_quantity(Fraction(2 * 2**27), True) == "256Mi"
    assert format_quantity(Fraction(3, 2), False) == "1500m"
    assert format_quantity(Fraction(0), True) == "0"
    assert format_quantity(Fraction(7), False) == "7"


def test_not_a_quantity() -> None:
    with pytest.raises(ValueError, match="not a quantity"):
        parse_quantity("12 apples")


@given(st.integers(min_value=0, max_value=2**40), st.sampled_from(["Ki", "Mi", "Gi", "", "m"]))
def test_format_then_parse_keeps_the_value(number: int, suffix: str) -> None:
    value, binary = parse_quantity(f"{number}{suffix}")
    assert parse_quantity(format_quantity(value, binary))[0] == value
