"""``batch/v1`` defaults: Job and CronJob.

Source: kubernetes/kubernetes ``pkg/apis/batch/v1/defaults.go`` as of 1.32 (``SetDefaults_Job``
with the ``JobPodReplacementPolicy`` gate on, beta and on by default since 1.29;
``SetDefaults_CronJob``). A CronJob's ``jobTemplate.spec`` is not a Job: it takes only the pod
template's defaults, the Job's own arrive when the controller creates the Job.
"""

from __future__ import annotations

from typing import Any

from pytest_syncer.apiserver.api.kinds.defaults import core
from pytest_syncer.apiserver.api.kinds.tree import child, setdefault

MAX_INT32 = 2**31 - 1


def job(obj: dict[str, Any]) -> None:
    spec = child(obj, "spec")
    if spec is None:
        return
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
    if spec.get("backoffLimit") is None:
        per_index = spec.get("backoffLimitPerIndex") is not None
        spec["backoffLimit"] = MAX_INT32 if per_index else 6
    template = spec.get("template")
    template_labels = (template.get("metadata") or {}) if isinstance(template, dict) else {}
    labels = template_labels.get("labels") if isinstance(template_labels, dict) else None
    metadata = child(obj, "metadata", create=True)
    if isinstance(labels, dict) and metadata is not None and not metadata.get("labels"):
        metadata["labels"] = labels
    setdefault(spec, "completionMode", "NonIndexed")
    if spec.get("suspend") is None:
        spec["suspend"] = False
    if spec.get("podReplacementPolicy") is None:
        failure_policy = spec.get("podFailurePolicy") is not None
        spec["podReplacementPolicy"] = "Failed" if failure_policy else "TerminatingOrFailed"
    core.pod_template(spec)


def cron_job(obj: dict[str, Any]) -> None:
    spec = child(obj, "spec")
    if spec is None:
        return
    setdefault(spec, "concurrencyPolicy", "Allow")
    if spec.get("suspend") is None:
        spec["suspend"] = False
    if spec.get("successfulJobsHistoryLimit") is None:
        spec["successfulJobsHistoryLimit"] = 3
    if spec.get("failedJobsHistoryLimit") is None:
        spec["failedJobsHistoryLimit"] = 1
    job_template = child(spec, "jobTemplate")
    job_spec = None if job_template is None else child(job_template, "spec")
    if job_spec is not None:
        core.pod_template(job_spec)
