"""Pod-template workloads must not run as the upstream's service account.

The upstream ServiceAccount (and its token) means nothing below: a pod that names it would fail
admission or mount a token for the wrong cluster. Below, pods run as the namespace's `default`
account with no token mounted.
"""

from __future__ import annotations

from pytest_syncer.contract.objects import KubeObject
from pytest_syncer.syncer.interfaces import TransformContext
from pytest_syncer.syncer.transform.objects import group_of, nested_mapping, replace_nested

POD_SPEC_PATHS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "Pod"): ("spec",),
    ("", "ReplicationController"): ("spec", "template", "spec"),
    ("apps", "Deployment"): ("spec", "template", "spec"),
    ("apps", "ReplicaSet"): ("spec", "template", "spec"),
    ("apps", "StatefulSet"): ("spec", "template", "spec"),
    ("apps", "DaemonSet"): ("spec", "template", "spec"),
    ("batch", "Job"): ("spec", "template", "spec"),
    ("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template", "spec"),
}
"""Where each built-in kind keeps its pod spec."""

POD_TEMPLATE_KINDS = frozenset(kind for _, kind in POD_SPEC_PATHS)
_SERVICE_ACCOUNT_FIELDS = ("serviceAccountName", "serviceAccount")


def detach_service_account(obj: KubeObject, context: TransformContext) -> KubeObject:
    """`automountServiceAccountToken: false` and no upstream `serviceAccountName`."""
    path = POD_SPEC_PATHS.get((group_of(obj), obj["kind"]))
    if path is None:
        return obj
    pod_spec = nested_mapping(obj, path)
    if pod_spec is None:
        return obj
    if pod_spec.get("automountServiceAccountToken") is False and not any(
        field in pod_spec for field in _SERVICE_ACCOUNT_FIELDS
    ):
        return obj
    detached = {key: value for key, value in pod_spec.items() if key not in _SERVICE_ACCOUNT_FIELDS}
    detached["automountServiceAccountToken"] = False
    return replace_nested(obj, path, detached)


JOB_CONTROLLER_UID_LABELS = ("controller-uid", "batch.kubernetes.io/controller-uid")
"""Labels the API server puts on a Job's selector and template, naming the upstream Job's uid."""


def drop_generated_job_selector(obj: KubeObject, context: TransformContext) -> KubeObject:
    """Let the downstream API server generate a Job's selector for the copy's own uid.

    The upstream server generated `spec.selector` and the template's controller-uid labels from
    the upstream Job's uid; the downstream server refuses them (they do not match the new uid).
    A Job with `manualSelector: true` chose its selector itself and keeps it.
    """
    if group_of(obj) != "batch" or obj["kind"] != "Job":
        return obj
    spec = nested_mapping(obj, ("spec",))
    if spec is None or spec.get("manualSelector") is True:
        return obj
    labels = nested_mapping(obj, ("spec", "template", "metadata", "labels")) or {}
    generated = [name for name in JOB_CONTROLLER_UID_LABELS if name in labels]
    if "selector" not in spec and not generated:
        return obj
    new_spec = {key: value for key, value in spec.items() if key != "selector"}
    if generated:
        template = new_spec["template"]
        template_metadata = template["metadata"]
        kept = {name: value for name, value in labels.items() if name not in generated}
        new_spec["template"] = {**template, "metadata": {**template_metadata, "labels": kept}}
    return {**obj, "spec": new_spec}
