"""Option resolution: defaults, numbers, conflicts, templates."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.harness.config import (
    DEFAULT_SEED,
    DEFAULT_TARGETS,
    HarnessConfig,
    HarnessConfigError,
    auto_apiservers,
    check_template,
    resolve,
)


def test_defaults() -> None:
    config = resolve({}, set())
    assert (config.provider, config.targets, config.seed) == ("embedded", DEFAULT_TARGETS, 12)
    assert DEFAULT_SEED == 12


@pytest.mark.parametrize(
    ("text", "on"), [(None, False), ("off", False), ("on", True), ("True", True)]
)
def test_network_faults_is_a_switch(text: str | None, on: bool) -> None:
    assert resolve({"syncer_network_faults": text}, set()).network_faults is on


def test_network_faults_cannot_be_kept() -> None:
    with pytest.raises(HarnessConfigError, match="fault proxy lives in the pytest process"):
        resolve({"syncer_network_faults": "on", "syncer_keep": "on-failure"}, set())


@pytest.mark.parametrize(
    ("text", "latency"), [(None, (0.0, 0.0)), ("200", (200.0, 0.0)), ("200+50", (200.0, 50.0))]
)
def test_network_latency_is_milliseconds_and_jitter(
    text: str | None, latency: tuple[float, float]
) -> None:
    values = {"syncer_network_faults": "on", "syncer_network_latency": text}
    assert resolve(values, set()).network_latency == latency


def test_network_latency_needs_the_proxy() -> None:
    with pytest.raises(HarnessConfigError, match="needs --syncer-network-faults on"):
        resolve({"syncer_network_latency": "200"}, set())
    with pytest.raises(HarnessConfigError, match="must be a number"):
        resolve({"syncer_network_faults": "on", "syncer_network_latency": "slow"}, set())


def test_no_options_give_the_config_dataclass_defaults(tmp_path: Path) -> None:
    """The option defaults are the dataclass's: one source, so they cannot drift apart."""
    assert resolve({}, set(), root=tmp_path) == HarnessConfig()


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


COMMAND = "s {upstream_kubeconfig} {downstream_kubeconfig} {target}"


def test_crds_default_to_the_rootdirs_folder_when_it_exists(tmp_path: Path) -> None:
    assert resolve({}, set(), tmp_path).crds == ()
    folder = tmp_path / "fixtures" / "crds" / "workloads"
    folder.mkdir(parents=True)
    assert resolve({}, set(), tmp_path).crds == (folder,)
    assert resolve({}, set()).crds == ()


def test_crds_are_taken_from_the_rootdir_and_must_exist(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("")
    (tmp_path / "more").mkdir()
    config = resolve({"syncer_crds": "a.yaml, more"}, {"syncer_crds"}, tmp_path)
    assert config.crds == (tmp_path / "a.yaml", tmp_path / "more")
    with pytest.raises(HarnessConfigError, match=r"--syncer-crds: no such file or folder: .*/b"):
        resolve({"syncer_crds": "a.yaml,b"}, {"syncer_crds"}, tmp_path)


def test_an_empty_crds_value_turns_the_default_off(tmp_path: Path) -> None:
    (tmp_path / "fixtures" / "crds" / "workloads").mkdir(parents=True)
    assert resolve({"syncer_crds": ""}, {"syncer_crds"}, tmp_path).crds == ()


def test_named_crds_need_a_command_that_passes_resources(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("")
    values = {"syncer_crds": "a.yaml", "syncer_command": COMMAND}
    with pytest.raises(HarnessConfigError, match=r"does not pass \{resources\}"):
        resolve(values, set(values), tmp_path)
    told = {**values, "syncer_command": COMMAND + " --resources {resources}"}
    assert resolve(told, set(told), tmp_path).crds == (tmp_path / "a.yaml",)


def test_default_crds_with_a_command_that_does_not_pass_resources_is_fine(tmp_path: Path) -> None:
    folder = tmp_path / "fixtures" / "crds" / "workloads"
    folder.mkdir(parents=True)
    values = {"syncer_command": COMMAND}
    assert resolve(values, set(values), tmp_path).crds == (folder,)


@pytest.mark.parametrize(("text", "count"), [("1", 1), ("3", 3), (" 2 ", 2)])
def test_apiservers_is_a_count(text: str, count: int) -> None:
    assert resolve({"syncer_apiservers": text}, {"syncer_apiservers"}).apiservers == count


def test_apiservers_auto_is_the_upstream_and_one_per_core(monkeypatch: pytest.MonkeyPatch) -> None:
    """`auto` (the default) follows the machine: the upstream's process and one per core for
    the targets, one on a single core."""
    assert [auto_apiservers(cpus) for cpus in (1, 2, 3, 8)] == [1, 3, 4, 9]
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert resolve({}, set()).apiservers == 9
    assert resolve({"syncer_apiservers": "auto"}, {"syncer_apiservers"}).apiservers == 9
    assert HarnessConfig().apiservers == 9


def test_apiservers_are_for_the_embedded_provider() -> None:
    with pytest.raises(HarnessConfigError, match="for --syncer-provider embedded, not kind"):
        resolve({"syncer_provider": "kind", "syncer_apiservers": "2"}, {"syncer_apiservers"})
