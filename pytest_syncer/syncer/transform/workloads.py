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
JOB_NAME_LABELS = ("job-name", "batch.kubernetes.io/job-name")
"""Labels the API server puts on a Job's template beside them, naming the Job."""


def drop_generated_job_selector(obj: KubeObject, context: TransformContext) -> KubeObject:
    """Let the downstream API server generate a Job's selector and labels for the copy's own uid.

    The upstream server generated `spec.selector` and the template's controller-uid and job-name
    labels (``generateSelector`` in ``pkg/registry/batch/job/strategy.go``), and a Job created
    without labels reads back with its template's as its own (``SetDefaults_Job``), generated
    ones included. The downstream server refuses a selector or template label naming another
    uid, and the copy's own labels must not name the upstream Job's uid: every generated label
    goes, from the template and from `metadata.labels` where it carries the template's value,
    and the downstream server generates its own. A Job with `manualSelector: true` chose its
    selector and labels itself and keeps them.
    """
    if group_of(obj) != "batch" or obj["kind"] != "Job":
        return obj
    spec = nested_mapping(obj, ("spec",))
    if spec is None or spec.get("manualSelector") is True:
        return obj
    labels = nested_mapping(obj, ("spec", "template", "metadata", "labels")) or {}
    metadata = nested_mapping(obj, ("metadata",)) or {}
    generated = {key: labels[key] for key in JOB_CONTROLLER_UID_LABELS if key in labels}
    if generated:
        generated.update(
            (key, labels[key]) for key in JOB_NAME_LABELS if labels.get(key) == metadata.get("name")
        )
    if "selector" not in spec and not generated:
        return obj
    new_spec = {key: value for key, value in spec.items() if key != "selector"}
    if not generated:
        return {**obj, "spec": new_spec}
    template = new_spec["template"]
    kept = {key: value for key, value in labels.items() if key not in generated}
    new_spec["template"] = {**template, "metadata": {**template["metadata"], "labels": kept}}
    result = {**obj, "spec": new_spec}
    own = metadata.get("labels")
    if isinstance(own, dict) and any(own.get(key) == value for key, value in generated.items()):
        result["metadata"] = {
            **metadata,
            "labels": {
                key: value for key, value in own.items() if generated.get(key, object()) != value
            },
        }
    return result
