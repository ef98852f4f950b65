"""Placement, update, relabel and delete, for every kind the reference syncer handles. The
update adds annotations: the workload's own must reach every copy, the upstream-only ones (the
syncer's, per-target status, soft finalizers and deletions, for targets that do not exist here)
none."""

from __future__ import annotations

from typing import Any, cast

import pytest

from pytest_syncer.harness.environment import TargetHandle
from pytest_syncer.harness.kube import Cluster
from pytest_syncer.harness.workloads import WorkloadFactory, merge
from tests import kcp_vector as vector

pytestmark = pytest.mark.syncer_e2e

UPDATES: dict[str, dict[str, Any]] = {
    "deployment.yaml": {"spec": {"replicas": 3}},
    "replicaset.yaml": {"spec": {"replicas": 1}},
    "statefulset.yaml": {"spec": {"replicas": 3}},
    "daemonset.yaml": {"spec": {"minReadySeconds": 5}},
    "job.yaml": {"spec": {"activeDeadlineSeconds": 600}},
    "service.yaml": {
        "spec": {"ports": [{"name": "http", "port": 8080, "targetPort": 80, "protocol": "TCP"}]}
    },
    "service-headless.yaml": {"spec": {"ports": [{"name": "http", "port": 8080}]}},
    "service-nodeport.yaml": {
        "spec": {"ports": [{"name": "http", "port": 8080, "targetPort": 8080}]}
    },
    "cronjob.yaml": {"spec": {"schedule": "30 4 * * *", "concurrencyPolicy": "Forbid"}},
    "configmap.yaml": {"data": {"mode": "staging"}},
    "secret.yaml": {"data": {"password": "bmV3LXBhc3N3b3Jk"}},
    "persistentvolumeclaim.yaml": {"metadata": {"labels": {"tier": "storage"}}},
    "ingress.yaml": {
        "spec": {
            "rules": [
                {
                    "host": "www.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ]
        }
    },
}


ANNOTATIONS = {
    "team": "web",
    "workload.kcp.io/conflict-strategy": "upstream-wins",
    "experimental.status.workload.kcp.io/elsewhere": '{"phase": "Ready"}',
    "finalizers.workload.kcp.io/elsewhere": "held",
    "deletion.internal.workload.kcp.io/elsewhere": "2026-01-01T00:00:00Z",
}


@pytest.mark.conformance("core.placement", "core.update", "core.removal", "core.deletion")
@pytest.mark.parametrize("manifest", sorted(UPDATES))
def test_place_update_relabel_delete(workload: WorkloadFactory, manifest: str) -> None:
    # Three targets where the environment has room for a fourth to join; fewer on a small one.
    placed = workload(manifest, targets=max(1, min(3, workload.env.size - 1)))
    placed.wait_converged()

    metadata = {"labels": {"revision": "2"}, "annotations": ANNOTATIONS}
    placed.update(merge(UPDATES[manifest], {"metadata": metadata}))
    placed.wait_synced()

    leaving = sorted(placed.placed)[0]
    [joining] = workload.choose(1, exclude=placed.placed)
    placed.unplace(leaving)
    placed.place(joining)
    placed.wait_converged()

    placed.delete()
    placed.wait_converged()


def test_the_suite_expects_kcps_names() -> None:
    """Every check above finds a copy where the harness computes its namespace and label; those
    computations must give kcp's test vector, or the suite and a syncer could drift together."""
    target = TargetHandle(
        name=vector.TARGET_NAME,
        key=vector.SYNC_TARGET_KEY,
        uid=vector.TARGET_UID,
        upstream_cluster=vector.UPSTREAM_CLUSTER,
        cluster=cast(Cluster, None),
    )
    assert target.namespace(vector.NAMESPACE) == vector.DOWNSTREAM_NAMESPACE
    assert target.label == vector.PLACEMENT_LABEL
