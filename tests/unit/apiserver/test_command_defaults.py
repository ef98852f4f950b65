"""The apiserver command's option defaults are the server's own keyword defaults."""

from __future__ import annotations

import inspect

from pytest_syncer.apiserver.command import build_parser
from pytest_syncer.apiserver.server import EmbeddedAPIServer

PASSED_THROUGH = (
    "data_dir",
    "port",
    "host",
    "insecure_http",
    "watch_retention",
    "bookmark_interval",
    "header_timeout",
)
"""The options the command hands to EmbeddedAPIServer under the same name."""


def test_no_options_give_the_servers_defaults() -> None:
    args = build_parser().parse_args(["--kubeconfig-dir", "kubeconfigs"])
    parameters = inspect.signature(EmbeddedAPIServer).parameters
    assert {name: getattr(args, name) for name in PASSED_THROUGH} == {
        name: parameters[name].default for name in PASSED_THROUGH
    }
