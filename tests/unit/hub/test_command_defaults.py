"""The hub command's option defaults are the Hub's own keyword defaults."""

from __future__ import annotations

import inspect

from pytest_syncer.hub.command import Hub, _parser

PASSED_THROUGH = (
    "host",
    "port",
    "response_timeout",
    "drain_timeout",
    "ping_interval",
    "review_ttl",
    "header_timeout",
)
"""The options the command hands to Hub under the same name."""


def test_no_options_give_the_hubs_defaults() -> None:
    args = _parser().parse_args(["--upstream-kubeconfig", "u", "--token-secret-file", "s"])
    parameters = inspect.signature(Hub).parameters
    assert {name: getattr(args, name) for name in PASSED_THROUGH} == {
        name: parameters[name].default for name in PASSED_THROUGH
    }
    assert args.response_timeout == 30.0  # the documented default (docs/tunnel.md, 504)
