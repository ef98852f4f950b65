"""`pytest-syncer init [DIR]`: the starting point of a repository that tests its syncer with the
harness. It writes a conftest, one end-to-end test module that asks for fixtures by name only, a
GitHub Actions job that runs `pytest --syncer-e2e` and keeps what a failure leaves, and a
`pytest.ini` when DIR has no pytest configuration yet (it pins the rootdir, under which the
harness looks for the user's own `fixtures/workloads/` and `fixtures/crds/workloads/`).

It never overwrites: if any of its files exists, it names them and writes nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

CONFTEST = '''\
"""Written by `pytest-syncer init`. The harness's fixtures come with its pytest plugin, which
installing pytest-syncer registers: `workload`, `sync_targets`, `upstream`, `conflicts`,
`faults`, `status_profiles`, `tunnel_client`, `syncer_env`. `pytest --fixtures` lists each
with a line of what it is, `pytest --help` the --syncer-* options (group "syncer").

This file is where to override the configuration fixtures, for example where
`workload("x.yaml")` looks for manifests (after the rootdir, `fixtures/`, `fixtures/workloads/`
and the samples shipped with pytest-syncer):

    @pytest.fixture(scope="session")
    def syncer_manifest_dirs(syncer_manifest_dirs):
        return [Path(__file__).parent / "manifests", *syncer_manifest_dirs]
"""
'''

EXAMPLE = '''\
"""Written by `pytest-syncer init`: end-to-end tests on the harness's clusters. They run with
`pytest --syncer-e2e` (50 sync targets; `--syncer-targets 3` for a quick run) and skip
without it. `--syncer-command '...'` puts your own syncer under the same tests."""

import pytest

pytestmark = pytest.mark.syncer_e2e


def test_web_reaches_three_targets(workload):
    web = workload("deployment.yaml", targets=3)  # fixtures/workloads/, a shipped sample, a dict
    web.wait_converged()


def test_an_update_reaches_every_target(workload, sync_targets):
    settings = workload(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings"},
            "data": {"mode": "blue"},
        }
    )
    settings.wait_converged()
    settings.update({"data": {"mode": "green"}})
    settings.wait_converged()
    for target in sync_targets:
        assert settings.downstream(target.name)["data"] == {"mode": "green"}
'''

WORKFLOW = """\
# Written by `pytest-syncer init`: the syncer's end-to-end tests on every push and pull request.
# The JUnit XML and what a failing test leaves (each process's log window, the objects its
# workloads touched) are kept as the job's artifact, passed or failed.
name: syncer-e2e
on: [push, pull_request]
jobs:
  syncer-e2e:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      # Add your own package and test dependencies here.
      - run: python -m pip install pytest-syncer
      - run: >-
          python -m pytest --syncer-e2e
          --syncer-artifacts=syncer-artifacts --junitxml=syncer-artifacts/junit.xml
      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: syncer-e2e
          path: syncer-artifacts/
          if-no-files-found: ignore
"""

PYTEST_INI = """\
# Written by `pytest-syncer init`. It pins pytest's rootdir: the harness looks for your own
# fixtures/workloads/ and fixtures/crds/workloads/ under it. Every --syncer-* option has an
# ini twin here (`pytest --help`), e.g. your syncer under the tests instead of the reference one:
#   syncer_command = my-syncer --upstream-kubeconfig {upstream_kubeconfig}
#       --downstream-kubeconfig {downstream_kubeconfig} --sync-target {target}
[pytest]
"""

STARTER = {
    Path("conftest.py"): CONFTEST,
    Path("tests") / "test_syncer_e2e.py": EXAMPLE,
    Path(".github") / "workflows" / "syncer-e2e.yml": WORKFLOW,
}
PYTEST_CONFIGS = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")
"""Files pytest reads its configuration (and rootdir) from; with any of them, no pytest.ini."""


def plan(directory: Path) -> dict[Path, str]:
    """What `init` writes into `directory`, by path relative to it."""
    files = dict(STARTER)
    if not any((directory / name).exists() for name in PYTEST_CONFIGS):
        files[Path("pytest.ini")] = PYTEST_INI
    return files


def write_starter(directory: Path) -> list[Path]:
    """Write the starter files; raise FileExistsError naming every one already there (then
    nothing is written)."""
    files = plan(directory)
    existing = [directory / name for name in files if (directory / name).exists()]
    if existing:
        raise FileExistsError(", ".join(str(path) for path in existing))
    written = []
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="pytest-syncer init",
        description="Start testing a syncer with pytest-syncer in DIR: a conftest.py, an "
        "example end-to-end test module, a GitHub Actions job and, when DIR has no pytest "
        "configuration, a pytest.ini. Existing files are never overwritten.",
    )
    parser.add_argument("directory", nargs="?", default=".", metavar="DIR", type=Path)
    args = parser.parse_args(argv)
    directory: Path = args.directory
    try:
        written = write_starter(directory)
    except FileExistsError as error:
        print(f"pytest-syncer init: would overwrite {error}; nothing written", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    print("run the example: pytest --syncer-e2e --syncer-targets 3")
    return 0
