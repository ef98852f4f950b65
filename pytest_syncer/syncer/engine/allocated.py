"""Fields a downstream API server fills in and then refuses to see changed or dropped.

The transform drops them (a Service's cluster IPs, a Job's generated selector) because each
cluster allocates its own; a replace of an existing copy must carry the downstream's values
back, or a real cluster rejects it as an immutable-field change.
"""

from __future__ import annotations

from pytest_syncer.contract.objects import KubeObject

ALLOCATED_SPEC_FIELDS: dict[str, tuple[str, ...]] = {
    "Service": ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "healthCheckNodePort"),
    "Job": ("selector",),
    "PersistentVolumeClaim": ("volumeName",),
}
JOB_GENERATED_LABELS = ("controller-uid", "batch.kubernetes.io/controller-uid")


def carry_allocated_fields(desired: KubeObject, existing: KubeObject | None) -> KubeObject:
    """`desired` with the allocated fields `existing` has and `desired` lacks."""
    if existing is None:
        return desired
    names = ALLOCATED_SPEC_FIELDS.get(str(desired.get("kind")), ())
    have = existing.get("spec") or {}
    want = desired.get("spec")
    if not names or not isinstance(want, dict) or not isinstance(have, dict):
        return desired
    carried = {name: have[name] for name in names if name in have and name not in want}
    if not carried:
        return desired
    spec = {**want, **carried}
    if desired.get("kind") == "Job" and "selector" in carried:
        spec = _with_job_template_labels(spec, have)
    return {**desired, "spec": spec}


def _with_job_template_labels(spec: KubeObject, have: KubeObject) -> KubeObject:
    template = spec.get("template")
    have_labels = ((have.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if not isinstance(template, dict):
        return spec
    metadata = template.get("metadata") or {}
    labels = dict(metadata.get("labels") or {})
    for name in JOB_GENERATED_LABELS:
        if name in have_labels and name not in labels:
            labels[name] = have_labels[name]
    return {**spec, "template": {**template, "metadata": {**metadata, "labels": labels}}}
