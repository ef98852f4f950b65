"""Downstream transforms per second for a Deployment of typical size, beside `copy.deepcopy`.

The Deployment is what an upstream API server hands a syncer: managedFields, status, placement
labels, kcp annotations, two containers with env, probes and resources. Each transform runs the
whole downstream pipeline for one of `--targets` sync targets in turn. The floor beside it is a
plain `copy.deepcopy` of the same object, measured in the same run in alternating slices so
both see the same machine load. Progress goes to stderr; the last stdout line is
``{"transform": {"per_s", "targets", "steps"}, "deepcopy": {"per_s"}, "ratio"}``.

    python benchmarks/bench_transform.py [--targets N] [--duration S] [--json FILE]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_syncer.contract.objects import SyncTarget
from pytest_syncer.syncer.interfaces import TransformContext
from pytest_syncer.syncer.transform.pipeline import downstream_pipeline

SLICE_S = 0.25


def progress(message: str) -> None:
    print(f"bench_transform: {message}", file=sys.stderr, flush=True)


def typical_deployment(keys: list[str]) -> dict[str, Any]:
    container = {
        "name": "web",
        "image": "ghcr.io/example/web:1.4.2",
        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
        "env": [{"name": f"SETTING_{index}", "value": f"value-{index}"} for index in range(6)],
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 5},
        "livenessProbe": {"httpGet": {"path": "/livez", "port": 8080}, "periodSeconds": 10},
        "volumeMounts": [{"name": "config", "mountPath": "/etc/web"}],
    }
    sidecar = {**container, "name": "proxy", "image": "envoyproxy/envoy:v1.31", "env": []}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "team-a",
            "uid": "0b7f2c3e-5d7a-4a4e-9d1f-2f3a4b5c6d7e",
            "resourceVersion": "48213",
            "generation": 7,
            "creationTimestamp": "2026-11-20T08:00:00Z",
            "labels": {
                "app": "web",
                "tier": "frontend",
                **{f"state.workload.kcp.io/{key}": "Sync" for key in keys},
            },
            "annotations": {
                "kcp.io/cluster": "root:org:ws",
                "deployment.kubernetes.io/revision": "7",
                "kubectl.kubernetes.io/last-applied-configuration": "{" + "x" * 600 + "}",
                **{f"experimental.status.workload.kcp.io/{key}": '{"replicas":3}' for key in keys},
            },
            "finalizers": ["workload.kcp.io/syncer"],
            "managedFields": [
                {
                    "manager": manager,
                    "operation": "Update",
                    "apiVersion": "apps/v1",
                    "time": "2026-11-20T08:00:00Z",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {}}}},
                }
                for manager in ("kubectl", "kube-controller-manager")
            ],
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web", "tier": "frontend"}},
                "spec": {
                    "serviceAccountName": "web",
                    "containers": [container, sidecar],
                    "volumes": [{"name": "config", "configMap": {"name": "web-config"}}],
                },
            },
        },
        "status": {
            "observedGeneration": 7,
            "replicas": 3,
            "readyReplicas": 3,
            "updatedReplicas": 3,
            "availableReplicas": 3,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            ],
        },
    }


def timed_slice(work: Callable[[int], None]) -> tuple[int, float]:
    """Run `work` in batches for about SLICE_S; return (operations, seconds)."""
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < SLICE_S:
        work(done)
        done += 100
    return done, elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=50, help="sync targets to cycle through")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds of measurement")
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    args = parser.parse_args(argv)

    targets = [
        SyncTarget(f"target-{index}", "root:org:ws", f"uid-{index}")
        for index in range(args.targets)
    ]
    contexts = [TransformContext(target) for target in targets]
    deployment = typical_deployment([target.key for target in targets[:5]])
    pipeline = downstream_pipeline()
    progress(
        f"{len(json.dumps(deployment))}-byte Deployment, {len(pipeline.names)} steps, "
        f"{args.targets} targets, {args.duration:g}s"
    )

    def transform(offset: int) -> None:
        for index in range(offset, offset + 100):
            pipeline(deployment, contexts[index % len(contexts)])

    def deepcopy(offset: int) -> None:
        for _ in range(100):
            copy.deepcopy(deployment)

    totals = {"transform": [0, 0.0], "deepcopy": [0, 0.0]}
    started = time.perf_counter()
    while time.perf_counter() - started < args.duration:
        for name, work in (("transform", transform), ("deepcopy", deepcopy)):
            count, seconds = timed_slice(work)
            totals[name][0] += count
            totals[name][1] += seconds
    transform_per_s = totals["transform"][0] / totals["transform"][1]
    deepcopy_per_s = totals["deepcopy"][0] / totals["deepcopy"][1]
    progress(f"transform {transform_per_s:,.0f}/s, deepcopy {deepcopy_per_s:,.0f}/s")
    result = {
        "transform": {
            "per_s": round(transform_per_s),
            "targets": args.targets,
            "steps": len(pipeline.names),
        },
        "deepcopy": {"per_s": round(deepcopy_per_s)},
        "ratio": round(transform_per_s / deepcopy_per_s, 2),
    }
    line = json.dumps(result)
    if args.json is not None:
        args.json.write_text(line + "\n")
    print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
