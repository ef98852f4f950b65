"""Which event loop a service process runs on: `PYTEST_SYNCER_LOOP`, else the service's own
default (uvloop for the API servers, asyncio's loop for the rest), uvloop only when installed."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from pytest_syncer.process import loop as service_loop
from pytest_syncer.process.loop import LOOP_VARIABLE, loop_choice, new_loop


def test_unset_means_the_services_default() -> None:
    assert loop_choice("uvloop", {}) == "uvloop"
    assert loop_choice("asyncio", {}) == "asyncio"
    assert loop_choice("uvloop", {LOOP_VARIABLE: " "}) == "uvloop"
    assert loop_choice(environ={}) == "asyncio"


def test_the_variable_overrides_every_services_default() -> None:
    assert loop_choice("uvloop", {LOOP_VARIABLE: "asyncio"}) == "asyncio"
    assert loop_choice("asyncio", {LOOP_VARIABLE: "uvloop"}) == "uvloop"


def test_an_unknown_loop_is_refused_with_the_choices() -> None:
    refusal = r"PYTEST_SYNCER_LOOP='trio': choose one of uvloop, asyncio"
    with pytest.raises(ValueError, match=refusal):
        loop_choice("uvloop", {LOOP_VARIABLE: "trio"})


def test_without_uvloop_a_default_falls_back_and_asking_for_it_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        service_loop.importlib.util,
        "find_spec",
        lambda name, *args: None if name == "uvloop" else real(name, *args),
    )
    assert loop_choice("uvloop", {}) == "asyncio"
    with pytest.raises(ValueError, match="uvloop is not installed"):
        loop_choice("asyncio", {LOOP_VARIABLE: "uvloop"})


@pytest.mark.parametrize("name", ["uvloop", "asyncio"])
def test_new_loop_makes_the_named_loop(name: str) -> None:
    loop = new_loop(name)
    try:
        assert (type(loop).__module__.split(".")[0] == "uvloop") == (name == "uvloop")
        assert loop.run_until_complete(asyncio.sleep(0, "ran")) == "ran"
    finally:
        loop.close()
