"""The ``pytest-syncer`` command: a table of subcommands, each imported only when it runs.

Every subcommand lives in the module that owns its concept and exposes ``main(argv) -> int``
with its own argument parser, so ``pytest-syncer --help`` stays fast and no module imports
another's command-line code.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

#: name -> ("module:function", one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "apiserver": (
        "pytest_syncer.apiserver.command:main",
        "serve logical clusters over the Kubernetes API and write their kubeconfigs",
    ),
    "hub": (
        "pytest_syncer.hub.command:main",
        "serve the upstream side: tunnels, proxy, status aggregator",
    ),
    "simulate": ("pytest_syncer.status.simulator:main", "play controllers on embedded clusters"),
    "token": ("pytest_syncer.tunnel.command:token", "mint a tunnel token for one sync target"),
    "syncer": ("pytest_syncer.syncer.command:main", "sync workloads down to one or many targets"),
    "init": (
        "pytest_syncer.harness.init_command:main",
        "start testing your syncer in DIR: conftest, example test, CI job",
    ),
    "up": ("pytest_syncer.harness.command:up", "start N targets for your shell"),
    "down": ("pytest_syncer.harness.command:down", "stop an environment `up` started in DIR"),
    "bench": (
        "pytest_syncer.bench.command:main",
        "run the benchmarks and locust, print one JSON result",
    ),
    "soak": ("pytest_syncer.soak.command:main", "churn and inject faults from a seed, then check"),
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: pytest-syncer COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {text}" for name, (_, text) in sorted(COMMANDS.items())]
    lines += ["", "Run 'pytest-syncer COMMAND --help' for a command's options."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(_usage())
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"pytest-syncer: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, _, function_name = COMMANDS[name][0].partition(":")
    command = getattr(importlib.import_module(module_name), function_name)
    result: int = command(rest)
    return result
