"""The load test's downstream watches: one per wildcard `environment.json` names, one per
target no wildcard reaches, and which target a wildcard's event is from.

The cluster is read from the object's `kcp.io/cluster` annotation, as kcp names an object's
logical cluster (kcp-dev/logicalcluster `name.go`: `AnnotationKey = "kcp.io/cluster"`, and
`From(obj)` reads it); the embedded API server sets it on every object it stores.
"""

from __future__ import annotations

from typing import Any

from pytest_syncer.bench.watch_sources import WatchSource, watch_sources
from pytest_syncer.harness.environment_file import EnvironmentFacts, TargetFacts, WildcardFacts

ADMIN_1 = "/env/kubeconfigs/apiserver-1/admin.kubeconfig"
ADMIN_2 = "/env/kubeconfigs/apiserver-2/admin.kubeconfig"


def facts(targets: list[str], wildcards: list[WildcardFacts]) -> EnvironmentFacts:
    return EnvironmentFacts(
        pid=1,
        process_groups=[],
        provider="embedded",
        started="2026-12-07T00:00:00Z",
        hub={"url": "https://127.0.0.1:1", "ca": "/env/ca.crt"},
        upstream={"cluster": "upstream", "kubeconfig": "/env/kubeconfigs/upstream.kubeconfig"},
        targets={
            name: TargetFacts(f"/env/kubeconfigs/{name}.kubeconfig", f"key-{name}", "l", "u")
            for name in targets
        },
        profiles_file=None,
        wildcards=wildcards,
    )


def event(kind: str, name: str, annotations: dict[str, str] | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": "kcp-abc"}
    if annotations is not None:
        metadata["annotations"] = annotations
    return {"type": kind, "object": {"kind": "ConfigMap", "metadata": metadata}}


def test_a_wildcard_event_is_from_the_target_its_cluster_annotation_names() -> None:
    source = WatchSource("w", ADMIN_1, "*", {"cluster-a": "target-000", "cluster-b": "target-001"})
    assert source.target_of(event("ADDED", "x", {"kcp.io/cluster": "cluster-b"})) == "target-001"
    assert source.target_of(event("DELETED", "x", {"kcp.io/cluster": "cluster-a"})) == "target-000"


def test_a_wildcard_event_from_no_target_is_from_none() -> None:
    """The upstream shares a process with targets when there is one API server process; an
    object without the annotation (no server of ours stores one) is on no known target."""
    source = WatchSource("w", ADMIN_1, "*", {"target-000": "target-000"})
    assert source.target_of(event("ADDED", "x", {"kcp.io/cluster": "upstream"})) is None
    assert source.target_of(event("ADDED", "x", {"other": "target-000"})) is None
    assert source.target_of(event("ADDED", "x", None)) is None


def test_a_targets_own_watch_shows_only_that_target() -> None:
    source = WatchSource("target-007", "/k", target="target-007")
    assert source.target_of(event("ADDED", "x", None)) == "target-007"
    assert source.targets == {"target-007"}


def test_one_watch_per_wildcard_and_one_per_target_none_reaches() -> None:
    """Clusters that are no target of this environment are dropped, and a target two
    wildcards name is watched once."""
    sources = watch_sources(
        facts(
            ["target-000", "target-001", "target-002", "target-003"],
            [
                WildcardFacts(
                    ADMIN_1,
                    "*",
                    {
                        "upstream-copy": "gone-target",
                        "target-000": "target-000",
                        "target-001": "target-001",
                    },
                ),
                WildcardFacts(
                    ADMIN_2, "*", {"target-001": "target-001", "target-002": "target-002"}
                ),
                WildcardFacts("/elsewhere", "*", {"gone": "gone-target"}),
            ],
        )
    )
    assert [(s.kubeconfig, s.context, dict(s.clusters), s.target) for s in sources] == [
        (ADMIN_1, "*", {"target-000": "target-000", "target-001": "target-001"}, None),
        (ADMIN_2, "*", {"target-002": "target-002"}, None),
        ("/env/kubeconfigs/target-003.kubeconfig", None, {}, "target-003"),
    ]
    assert set().union(*(s.targets for s in sources)) == {
        "target-000",
        "target-001",
        "target-002",
        "target-003",
    }


def test_without_wildcards_each_target_has_its_own_watch() -> None:
    """kind and kubeconfig providers, and files written before wildcards, name none."""
    sources = watch_sources(facts(["target-000", "target-001"], []))
    assert [(s.name, s.kubeconfig, s.context, s.target) for s in sources] == [
        ("target-000", "/env/kubeconfigs/target-000.kubeconfig", None, "target-000"),
        ("target-001", "/env/kubeconfigs/target-001.kubeconfig", None, "target-001"),
    ]
