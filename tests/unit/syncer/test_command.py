"""The syncer command's option defaults are EngineSettings' defaults."""

from __future__ import annotations

from pytest_syncer.syncer.command import build_parser, settings_from_arguments
from pytest_syncer.syncer.engine.settings import EngineSettings


def test_no_options_give_the_engine_settings_defaults() -> None:
    """Only the required kubeconfig given: every engine setting is the dataclass's default, the
    one place a default is written."""
    args = build_parser().parse_args(["--upstream-kubeconfig", "upstream.kubeconfig"])
    assert settings_from_arguments(args) == EngineSettings()
