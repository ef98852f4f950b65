"""A copy below carries the workload's own annotations and none of the upstream-only ones."""

from __future__ import annotations

from pytest_syncer.harness.workloads import annotation_differences

UPSTREAM = {
    "team": "web",
    "workload.kcp.io/conflict-strategy": "retain",
    "workload.kcp.io/retain-fields": "spec.replicas",
    "experimental.status.workload.kcp.io/t2": "{}",
    "finalizers.workload.kcp.io/t2": "held",
    "deletion.internal.workload.kcp.io/t2": "now",
    "kcp.io/cluster": "upstream",
}


def test_a_clean_copy_has_no_differences() -> None:
    copy = {"team": "web", "kcp.io/cluster": "target-001", "internal.workload.kcp.io/x": "1"}
    assert annotation_differences(UPSTREAM, copy, "upstream") == []


def test_each_upstream_only_annotation_copied_down_is_a_difference() -> None:
    copy = dict(UPSTREAM)
    assert annotation_differences(UPSTREAM, copy, "upstream") == [
        "metadata.annotations: upstream-only deletion.internal.workload.kcp.io/t2 copied down",
        "metadata.annotations: upstream-only experimental.status.workload.kcp.io/t2 copied down",
        "metadata.annotations: upstream-only finalizers.workload.kcp.io/t2 copied down",
        "metadata.annotations: upstream-only workload.kcp.io/conflict-strategy copied down",
        "metadata.annotations: upstream-only workload.kcp.io/retain-fields copied down",
        "metadata.annotations: kcp.io/cluster 'upstream' is the upstream's",
    ]


def test_the_workloads_own_annotation_must_be_there() -> None:
    assert annotation_differences(UPSTREAM, {}, "upstream") == [
        "metadata.annotations.team: expected 'web', had nothing"
    ]
