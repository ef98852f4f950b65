"""What lets one API server process start and serve 1000 clusters: the bootstrap objects of
every cluster in one SQLite transaction, the soft open-files limit lifted to the hard one,
and the start-up's objects frozen out of the garbage collector."""

from __future__ import annotations

import re
import resource
from pathlib import Path

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.apiserver.store.sqlite import SQLiteStore
from pytest_syncer.harness.waiting import wait_until
from pytest_syncer.process.parent import ServiceProcess


@pytest.mark.parametrize("clusters", [2, 6])
def test_the_bootstrap_of_every_cluster_is_one_transaction(tmp_path: Path, clusters: int) -> None:
    names = [f"c{index}" for index in range(clusters)]
    with BackgroundAPIServer(names, tmp_path / "kc", data_dir=tmp_path / "data") as running:
        app = running.server._app
        assert app is not None
        store = app.api.store
        assert isinstance(store, SQLiteStore)
        assert store.revision > 40 * clusters, "the bootstrap objects were written"
        assert store.commits == 1


def _soft_open_files(pid: int) -> int:
    limits = Path(f"/proc/{pid}/limits").read_text()
    [soft] = re.findall(r"^Max open files\s+(\d+)", limits, re.MULTILINE)
    return int(soft)


def test_the_process_lifts_its_open_files_limit_and_freezes_its_start(tmp_path: Path) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard <= 256:
        pytest.skip(f"needs a finite hard limit above 256 open files, not {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    try:
        server = ServiceProcess(
            "apiserver",
            ["--clusters=a,b", f"--kubeconfig-dir={tmp_path / 'kc'}"],
            log_path=tmp_path / "apiserver.log",
        )
        server.start()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        assert server.ready["open_files_limit"] == hard
        assert server.pid is not None
        assert _soft_open_files(server.pid) == hard
        frozen = wait_until(
            lambda: re.findall(r"(\d+) objects frozen", server.log_path.read_text()),
            bool,
            what="the log line saying how many objects were frozen",
            timeout=10,
        )
        assert int(frozen[0]) > 10000
    finally:
        server.stop()
