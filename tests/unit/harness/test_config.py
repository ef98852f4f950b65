"""Option resolution: defaults, numbers, conflicts, templates."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.harness.config import (
    DEFAULT_SEED,
    DEFAULT_TARGETS,
    HarnessConfigError,
    check_template,
    resolve,
)


def test_defaults() -> None:
    config = resolve({}, set())
    assert (config.provider, config.targets, config.seed) == ("embedded", DEFAULT_TARGETS, 12)
    assert DEFAULT_SEED == 12


def test_kubeconfig_provider_takes_the_path() -> None:
    config = resolve(
        {"syncer_provider": "kubeconfig", "syncer_kubeconfig": "/k"}, {"syncer_provider"}
    )
    assert config.kubeconfig == Path("/k")


@given(st.integers(min_value=1, max_value=10_000))
def test_targets_round_trip(count: int) -> None:
    assert resolve({"syncer_targets": str(count)}, set()).targets == count


@given(st.integers(max_value=0))
def test_non_positive_targets_are_refused(count: int) -> None:
    with pytest.raises(HarnessConfigError, match="at least 1"):
        resolve({"syncer_targets": str(count)}, set())


def test_with_targets_keeps_everything_else() -> None:
    config = resolve({"syncer_seed": "5", "syncer_timeout": "7"}, set())
    sized = config.with_targets(3)
    assert (sized.targets, sized.seed, sized.timeout) == (3, 5, 7.0)


def test_template_fields_are_checked() -> None:
    check_template("s --u {upstream_kubeconfig} --d {downstream_kubeconfig} --t {target}")
    with pytest.raises(HarnessConfigError, match="not a valid template"):
        check_template("s {upstream_kubeconfig")
