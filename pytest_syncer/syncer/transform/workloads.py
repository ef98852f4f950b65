"""Pod-template workloads must not run as the upstream's service account.

The upstream ServiceAccount (and its token) means nothing below: a pod that names it would fail
admission or mount a token for the wrong cluster. Below, pods run as the namespace's `default`
account with no token mounted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


TOKEN_VOLUME_PREFIX = "kube-api-access-"
"""The upstream ServiceAccount admission's projected token volume on a Pod (``kube-api-access-``
and five characters, mounted at ``/var/run/secrets/kubernetes.io/serviceaccount``)."""


def _token_volumes(pod_spec: Mapping[str, Any]) -> set[str]:
    """The names of the projected service-account token volumes admission added above."""
    names = set()
    for volume in pod_spec.get("volumes") or ():
        if not isinstance(volume, Mapping):
            continue
        name = str(volume.get("name", ""))
        sources = (volume.get("projected") or {}).get("sources") or ()
        if name.startswith(TOKEN_VOLUME_PREFIX) and any(
            isinstance(source, Mapping) and "serviceAccountToken" in source for source in sources
        ):
            names.add(name)
    return names


def _without_token_volumes(pod_spec: dict[str, Any], names: set[str]) -> None:
    pod_spec["volumes"] = [
        v for v in pod_spec["volumes"] if not (isinstance(v, Mapping) and v.get("name") in names)
    ]
    if not pod_spec["volumes"]:
        del pod_spec["volumes"]
    for field in ("initContainers", "containers"):
        containers = pod_spec.get(field)
        if not isinstance(containers, list):
            continue
        kept = []
        for container in containers:
            mounts = container.get("volumeMounts") if isinstance(container, Mapping) else None
            if isinstance(mounts, list):
                left = [
                    m for m in mounts if not (isinstance(m, Mapping) and m.get("name") in names)
                ]
                container = {**container, "volumeMounts": left}
                if not left:
                    del container["volumeMounts"]
            kept.append(container)
        pod_spec[field] = kept


def detach_service_account(obj: KubeObject, context: TransformContext) -> KubeObject:
    """`automountServiceAccountToken: false`, no upstream `serviceAccountName`, and no token
    volume the upstream's ServiceAccount admission mounted in a Pod (it names the upstream's
    account and CA; the target's admission mounts none once automount is off)."""
    path = POD_SPEC_PATHS.get((group_of(obj), obj["kind"]))
    if path is None:
        return obj
    pod_spec = nested_mapping(obj, path)
    if pod_spec is None:
        return obj
    tokens = _token_volumes(pod_spec)
    if (
        pod_spec.get("automountServiceAccountToken") is False
        and not any(field in pod_spec for field in _SERVICE_ACCOUNT_FIELDS)
        and not tokens
    ):
        return obj
    detached = {key: value for key, value in pod_spec.items() if key not in _SERVICE_ACCOUNT_FIELDS}
    detached["automountServiceAccountToken"] = False
    if tokens:
        _without_token_volumes(detached, tokens)
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
