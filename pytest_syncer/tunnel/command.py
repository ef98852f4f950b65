"""``pytest-syncer token``: mint a tunnel token for (workspace, target) from the hub's secret."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pytest_syncer.tunnel.auth import DEFAULT_TTL, TokenAuthority


def token(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="pytest-syncer token",
        description="Print a tunnel token that opens exactly one sync target's tunnel.",
    )
    parser.add_argument("--secret-file", type=Path, required=True, help="the hub's secret")
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--ttl", type=float, default=DEFAULT_TTL, metavar="S")
    args = parser.parse_args(argv)
    try:
        authority = TokenAuthority.from_file(args.secret_file)
        minted = authority.mint(args.workspace, args.target, ttl=args.ttl)
    except (OSError, ValueError) as error:
        print(f"pytest-syncer token: {error}", file=sys.stderr)
        return 2
    print(minted)
    return 0
