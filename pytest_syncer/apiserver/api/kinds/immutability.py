"""What an update may not change, per kind, with the real server's field paths and messages.

Sources (kubernetes/kubernetes): ``pkg/apis/apps/validation`` (``ValidateDeploymentUpdate``,
``ValidateReplicaSetUpdate``, ``ValidateDaemonSetUpdate``: ``spec.selector``;
``ValidateStatefulSetUpdate``: the Forbidden message below), ``pkg/apis/batch/validation``
(``ValidateJobSpecUpdate``: ``spec.selector``, ``spec.template``, ``spec.completionMode``),
``pkg/apis/core/validation`` (``ValidateConfigMapUpdate``, ``ValidateSecretUpdate``,
``validateUpgradeDowngradeClusterIPs``, ``ValidatePersistentVolumeClaimUpdate``,
``ValidatePodUpdate``), ``pkg/apis/rbac/validation`` (``ValidateRoleBindingUpdate``). The
generic message is ``ValidateImmutableField``'s ``field is immutable``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_syncer.apiserver.api.validation.field_errors import FieldError, invalid

IMMUTABLE = "field is immutable"
WHEN_IMMUTABLE = "field is immutable when `immutable` is set"
STATEFULSET_UPDATABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)
STATEFULSET_FORBIDDEN = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
    "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
)
PVC_FORBIDDEN = (
    "spec is immutable after creation except resources.requests and volumeAttributesClassName "
    "for bound claims"
)
POD_FORBIDDEN = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
    "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
    "(allow it to be set to 1 if it was previously negative)"
)

Check = Callable[[dict[str, Any], dict[str, Any]], list[FieldError]]


def forbidden(field: str, detail: str) -> FieldError:
    return FieldError(field, "FieldValueForbidden", f"Forbidden: {detail}")


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _same(new: dict[str, Any], old: dict[str, Any], *fields: str) -> list[FieldError]:
    """``ValidateImmutableField`` for each of ``spec``'s ``fields``."""
    new_spec, old_spec = _spec(new), _spec(old)
    return [
        invalid(f"spec.{field}", new_spec.get(field), IMMUTABLE)
        for field in fields
        if new_spec.get(field) != old_spec.get(field)
    ]


def selector(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    return _same(new, old, "selector")


def stateful_set(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    def rest(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in _spec(obj).items() if k not in STATEFULSET_UPDATABLE}

    return [forbidden("spec", STATEFULSET_FORBIDDEN)] if rest(new) != rest(old) else []


def job(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    return _same(new, old, "selector", "template", "completionMode")


def _immutable_data(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    if old.get("immutable") is not True:
        return []
    errors = []
    if new.get("immutable") is not True:
        errors.append(forbidden("immutable", WHEN_IMMUTABLE))
    for field in ("data", "binaryData"):
        if (new.get(field) or {}) != (old.get(field) or {}):
            errors.append(forbidden(field, WHEN_IMMUTABLE))
    return errors


def secret(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    errors = []
    if new.get("type") != old.get("type"):
        errors.append(invalid("type", new.get("type"), IMMUTABLE))
    return errors + _immutable_data(new, old)


def service(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    """The primary cluster IP stays, except to, from or on an ExternalName Service."""
    new_spec, old_spec = _spec(new), _spec(old)
    if "ExternalName" in (new_spec.get("type"), old_spec.get("type")):
        return []
    new_ips = new_spec.get("clusterIPs") or []
    old_ips = old_spec.get("clusterIPs") or []
    if not isinstance(new_ips, list) or not isinstance(old_ips, list) or not old_ips:
        return []
    if old_ips[0] == "None" and new_ips[:1] == ["None"]:
        return []
    if not new_ips:
        return [invalid("spec.clusterIPs[0]", new_ips, "primary clusterIP can not be unset")]
    if new_ips[0] != old_ips[0]:
        return [invalid("spec.clusterIPs[0]", new_ips, "may not change once set")]
    return []


def persistent_volume_claim(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    def rest(obj: dict[str, Any]) -> dict[str, Any]:
        return {
            k: v
            for k, v in _spec(obj).items()
            if k not in ("resources", "volumeAttributesClassName", "volumeName")
        }

    errors = [forbidden("spec", PVC_FORBIDDEN)] if rest(new) != rest(old) else []
    old_volume = _spec(old).get("volumeName")
    if old_volume and _spec(new).get("volumeName") != old_volume:
        errors.append(forbidden("spec", PVC_FORBIDDEN))
    return errors[:1]


def _pod_fixed(spec: dict[str, Any]) -> dict[str, Any]:
    """A pod spec without what an update may change."""
    fixed = {
        k: v
        for k, v in spec.items()
        if k not in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds")
    }
    for name in ("containers", "initContainers"):
        listed = spec.get(name)
        if isinstance(listed, list):
            fixed[name] = [
                {k: v for k, v in c.items() if k != "image"} if isinstance(c, dict) else c
                for c in listed
            ]
    return fixed


def pod(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    new_spec, old_spec = _spec(new), _spec(old)
    for name in ("containers", "initContainers"):
        if len(new_spec.get(name) or ()) != len(old_spec.get(name) or ()):
            return [forbidden(f"spec.{name}", "pod updates may not add or remove containers")]
    if _pod_fixed(new_spec) != _pod_fixed(old_spec):
        return [forbidden("spec", POD_FORBIDDEN)]
    return []


def role_binding(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    if new.get("roleRef") != old.get("roleRef"):
        return [invalid("roleRef", new.get("roleRef"), "cannot change roleRef")]
    return []


CHECKS: dict[tuple[str, str], Check] = {
    ("apps", "Deployment"): selector,
    ("apps", "ReplicaSet"): selector,
    ("apps", "DaemonSet"): selector,
    ("apps", "StatefulSet"): stateful_set,
    ("batch", "Job"): job,
    ("", "ConfigMap"): _immutable_data,
    ("", "Secret"): secret,
    ("", "Service"): service,
    ("", "PersistentVolumeClaim"): persistent_volume_claim,
    ("", "Pod"): pod,
    ("rbac.authorization.k8s.io", "RoleBinding"): role_binding,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): role_binding,
}


def immutable_field_errors(
    group: str, kind: str, new: dict[str, Any], old: dict[str, Any]
) -> list[FieldError]:
    """What ``new`` changes of ``old`` that its kind does not let an update change."""
    check = CHECKS.get((group, kind))
    return [] if check is None else check(new, old)
