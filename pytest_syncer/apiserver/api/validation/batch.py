"""Rules for the ``batch`` group: Jobs and CronJobs.

As ``pkg/apis/batch/validation/validation.go`` in Kubernetes checks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_syncer.apiserver.api.validation.core import pod_template_errors
from pytest_syncer.apiserver.api.validation.field_errors import FieldError, required
from pytest_syncer.apiserver.api.validation.rules import RuleContext, mapping_of


def job_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """A Job runs a pod template that restarts OnFailure or Never."""
    return _job_spec_errors(obj.get("spec"), "spec")


def _job_spec_errors(spec: Any, field: str) -> list[FieldError]:
    template = mapping_of(spec).get("template")
    errors = pod_template_errors(template, f"{field}.template", ("OnFailure", "Never"))
    template_spec = mapping_of(mapping_of(template).get("spec"))
    if template and "restartPolicy" not in template_spec:
        errors.append(
            required(f"{field}.template.spec.restartPolicy", 'valid values: "OnFailure", "Never"')
        )
    return errors


def cronjob_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """A CronJob needs a schedule and a valid job template."""
    spec = mapping_of(obj.get("spec"))
    errors = [] if spec.get("schedule") else [required("spec.schedule")]
    job_template = mapping_of(spec.get("jobTemplate"))
    return errors + _job_spec_errors(job_template.get("spec"), "spec.jobTemplate.spec")
