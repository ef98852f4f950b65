"""The names the harness expects a syncer to use, against kcp's test vector."""

from __future__ import annotations

from typing import cast

from pytest_syncer.harness.environment import TargetHandle
from pytest_syncer.harness.kube import Cluster
from tests import kcp_vector as vector


def _vector_target() -> TargetHandle:
    return TargetHandle(
        name=vector.TARGET_NAME,
        key=vector.SYNC_TARGET_KEY,
        uid=vector.TARGET_UID,
        upstream_cluster=vector.UPSTREAM_CLUSTER,
        cluster=cast(Cluster, None),
    )


def test_the_harness_looks_for_copies_where_kcp_puts_them() -> None:
    assert _vector_target().namespace(vector.NAMESPACE) == vector.DOWNSTREAM_NAMESPACE


def test_the_harness_places_workloads_with_kcps_label() -> None:
    assert _vector_target().label == vector.PLACEMENT_LABEL
