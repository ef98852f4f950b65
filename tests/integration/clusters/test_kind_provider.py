"""The kind provider's real code path (pytest-kind's KindCluster, the `kind` on PATH, the
kubeconfig install) with a stand-in `kind` executable: `kind create cluster` serves an
embedded cluster and writes its kubeconfig, `kind delete cluster` stops it. No Docker here."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from pytest_syncer.harness.clusters.base import ProviderUnavailable
from pytest_syncer.harness.clusters.kind import KindProvider, docker_answers

STAND_IN_KIND = """#!{python}
import json, os, shutil, signal, subprocess, sys
from pathlib import Path

state = Path(os.environ["STAND_IN_KIND_STATE"])
state.mkdir(parents=True, exist_ok=True)
args = sys.argv[1:]
options = dict(a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a)
if args[:2] == ["get", "clusters"]:
    for record in sorted(state.glob("*.json")):
        print(record.stem)
elif args[:2] == ["create", "cluster"]:
    name = options["name"]
    with open(state / (name + ".log"), "ab") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "pytest_syncer", "apiserver", "--clusters=" + name,
             "--kubeconfig-dir=" + str(state / name)],
            stdout=subprocess.PIPE, stderr=log, start_new_session=True,
        )
    ready = json.loads(server.stdout.readline())
    shutil.copy(ready["kubeconfigs"][name], options["kubeconfig"])
    (state / (name + ".json")).write_text(json.dumps({{"pid": server.pid}}))
    print("Creating cluster " + name + " ...", file=sys.stderr)
elif args[:2] == ["delete", "cluster"]:
    record = state / (options["name"] + ".json")
    if record.exists():
        os.killpg(json.loads(record.read_text())["pid"], signal.SIGTERM)
        record.unlink()
else:
    sys.exit("stand-in kind: unsupported " + " ".join(args))
"""

STAND_IN_DOCKER = """#!/bin/sh
[ "$1" = info ] && exit 0
exit 1
"""


def install_stand_ins(bin_dir: Path, *, docker: bool) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    kind = bin_dir / "kind"
    kind.write_text(STAND_IN_KIND.format(python=sys.executable))
    kind.chmod(0o755)
    if docker:
        (bin_dir / "docker").write_text(STAND_IN_DOCKER)
        (bin_dir / "docker").chmod(0o755)


@pytest.fixture
def stand_in_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    install_stand_ins(bin_dir, docker=True)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STAND_IN_KIND_STATE", str(tmp_path / "kind-state"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_targets_are_packed_onto_the_kind_clusters_after_the_first(
    stand_in_path: Path, tmp_path: Path
) -> None:
    provider = KindProvider(3)
    try:
        provided = provider.start(tmp_path / "work", [f"t{i}" for i in range(4)])
        assert provided.upstream_cluster == "pytest-syncer-0"
        assert {path.stem for path in provided.downstream_kubeconfigs.values()} == {
            "kind-pytest-syncer-1",
            "kind-pytest-syncer-2",
        }
        assert sorted(p.stem for p in (tmp_path / "kind-state").glob("*.json")) == [
            "pytest-syncer-0",
            "pytest-syncer-1",
            "pytest-syncer-2",
        ]
    finally:
        provider.stop()
    assert list((tmp_path / "kind-state").glob("*.json")) == []


def test_without_a_docker_engine_the_provider_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    install_stand_ins(bin_dir, docker=False)
    (bin_dir / "docker").write_text(
        "#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n"
    )
    (bin_dir / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert docker_answers() == "`docker info` failed: Cannot connect to the Docker daemon"
    with pytest.raises(ProviderUnavailable, match="no Docker engine answers"):
        KindProvider(2).start(tmp_path / "work", ["t0"])


def test_without_kind_on_path_nothing_is_downloaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ProviderUnavailable, match="no `kind` on PATH"):
        KindProvider(2).start(tmp_path / "work", ["t0"])


def test_e2e_on_stand_in_kind_and_skip_without_docker(
    stand_in_path: Path, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.syncer_e2e

        def test_on_kind(workload, sync_targets):
            assert len({t.cluster.kubeconfig for t in sync_targets}) == 1
            settings = workload(
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                 "data": {"k": "v"}},
            )
            settings.wait_converged()
        """
    )
    args = ["--syncer-e2e", "--syncer-provider=kind", "--syncer-targets=3", "-rs"]
    ran = pytester.runpytest_subprocess(*args, "--syncer-kind-clusters=2")
    ran.assert_outcomes(passed=1)
    assert list((stand_in_path / "kind-state").glob("*.json")) == []

    (stand_in_path / "bin" / "docker").write_text("#!/bin/sh\nexit 1\n")
    skipped = pytester.runpytest_subprocess(*args)
    skipped.assert_outcomes(skipped=1)
    skipped.stdout.fnmatch_lines(["*provider kind: no Docker engine answers*"])
