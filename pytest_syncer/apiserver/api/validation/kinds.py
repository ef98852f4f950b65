"""Which rules each kind runs, after the metadata rules every kind runs; ``validate_object``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_syncer.apiserver.api.validation.apiextensions import custom_resource_definition_rule
from pytest_syncer.apiserver.api.validation.apps import workload_rule
from pytest_syncer.apiserver.api.validation.batch import cronjob_rule, job_rule
from pytest_syncer.apiserver.api.validation.core import (
    configmap_rule,
    persistent_volume_claim_rule,
    pod_rule,
    secret_rule,
    service_rule,
)
from pytest_syncer.apiserver.api.validation.core_events import core_event_rule
from pytest_syncer.apiserver.api.validation.field_errors import FieldError, type_invalid
from pytest_syncer.apiserver.api.validation.metadata import (
    annotations_rule,
    finalizers_rule,
    labels_rule,
    name_rule,
    namespace_rule,
    owner_references_rule,
)
from pytest_syncer.apiserver.api.validation.networking import ingress_rule
from pytest_syncer.apiserver.api.validation.rbac import role_binding_rule, role_rule
from pytest_syncer.apiserver.api.validation.rules import Rule, RuleContext

COMMON_RULES: tuple[Rule, ...] = (
    name_rule,
    namespace_rule,
    labels_rule,
    annotations_rule,
    finalizers_rule,
    owner_references_rule,
)

RULES: dict[str, tuple[Rule, ...]] = {
    "ConfigMap": (configmap_rule,),
    "Secret": (secret_rule,),
    "Pod": (pod_rule,),
    "Service": (service_rule,),
    "Deployment": (workload_rule,),
    "ReplicaSet": (workload_rule,),
    "StatefulSet": (workload_rule,),
    "DaemonSet": (workload_rule,),
    "Job": (job_rule,),
    "CronJob": (cronjob_rule,),
    "PersistentVolumeClaim": (persistent_volume_claim_rule,),
    "Ingress": (ingress_rule,),
    "Role": (role_rule,),
    "ClusterRole": (role_rule,),
    "RoleBinding": (role_binding_rule,),
    "ClusterRoleBinding": (role_binding_rule,),
    "CustomResourceDefinition": (custom_resource_definition_rule,),
    "Event": (core_event_rule,),
}


def validate_object(kind: str, obj: Mapping[str, Any], *, namespaced: bool) -> list[FieldError]:
    """Every reason the real API server would refuse ``obj`` of ``kind`` with 422 Invalid."""
    if not isinstance(obj.get("metadata", {}), Mapping):
        return [type_invalid("metadata", obj.get("metadata"), "must be an object")]
    context = RuleContext(kind=kind, namespaced=namespaced)
    errors: list[FieldError] = []
    for rule in (*COMMON_RULES, *RULES.get(kind, ())):
        errors += rule(obj, context)
    return errors
