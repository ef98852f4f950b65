"""One stored object, served in two versions: ``events.k8s.io/v1`` Events are core v1 Events,
``autoscaling/v1`` HorizontalPodAutoscalers are ``autoscaling/v2`` ones.

Objects are stored in one form (core Event; HPA v2) and converted on the way out and in, as
kube-apiserver converts through its internal version. The field mappings are Kubernetes':
``pkg/apis/events/v1`` (``note`` is ``message``, ``regarding`` is ``involvedObject``,
``reportingController`` is ``reportingComponent``, ``deprecatedSource``/``...FirstTimestamp``/
``...LastTimestamp``/``...Count`` are ``source``/``firstTimestamp``/``lastTimestamp``/
``count``) and ``pkg/apis/autoscaling/v1`` (``targetCPUUtilizationPercentage`` is a ``Resource``
metric on ``cpu`` with an ``Utilization`` target). What v1 cannot say of an HPA (other
metrics, ``behavior``, conditions) is left out of the v1 view, and a v1 write replaces it
(Kubernetes keeps it in ``autoscaling.alpha.kubernetes.io/...`` annotations; this server does
not).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Convert = Callable[[Mapping[str, Any]], dict[str, Any]]

#: (served field, stored field) of an events.k8s.io/v1 Event and a core v1 Event.
_EVENT_FIELDS = (
    ("eventTime", "eventTime"),
    ("series", "series"),
    ("reportingController", "reportingComponent"),
    ("reportingInstance", "reportingInstance"),
    ("action", "action"),
    ("reason", "reason"),
    ("regarding", "involvedObject"),
    ("related", "related"),
    ("note", "message"),
    ("type", "type"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
)


def _renamed(
    obj: Mapping[str, Any], api_version: str, pairs: tuple[tuple[str, str], ...]
) -> dict[str, Any]:
    converted: dict[str, Any] = {
        "kind": obj.get("kind", "Event"),
        "apiVersion": api_version,
        "metadata": obj.get("metadata", {}),
    }
    for source, target in pairs:
        if obj.get(source) is not None:
            converted[target] = obj[source]
    return converted


def event_from_core(obj: Mapping[str, Any]) -> dict[str, Any]:
    return _renamed(obj, "events.k8s.io/v1", tuple((b, a) for a, b in _EVENT_FIELDS))


def event_to_core(obj: Mapping[str, Any]) -> dict[str, Any]:
    return _renamed(obj, "v1", _EVENT_FIELDS)


def _cpu_utilization(metrics: Any, kind: str) -> int | None:
    """The CPU utilisation of a v2 metric list (spec ``target``, status ``current``)."""
    for metric in metrics or []:
        resource = metric.get("resource") or {}
        if metric.get("type") == "Resource" and resource.get("name") == "cpu":
            value = (resource.get(kind) or {}).get("averageUtilization")
            if value is not None:
                return int(value)
    return None


def hpa_from_v2(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    v1_spec = {k: spec[k] for k in ("scaleTargetRef", "minReplicas", "maxReplicas") if k in spec}
    target = _cpu_utilization(spec.get("metrics"), "target")
    if target is not None:
        v1_spec["targetCPUUtilizationPercentage"] = target
    v1_status = {
        k: status[k]
        for k in ("observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas")
        if k in status
    }
    current = _cpu_utilization(status.get("currentMetrics"), "current")
    if current is not None:
        v1_status["currentCPUUtilizationPercentage"] = current
    converted = {
        "kind": "HorizontalPodAutoscaler",
        "apiVersion": "autoscaling/v1",
        "metadata": obj.get("metadata", {}),
        "spec": v1_spec,
    }
    if status:
        converted["status"] = {"currentReplicas": 0, "desiredReplicas": 0, **v1_status}
    return converted


def _cpu_metric(kind: str, value: int) -> dict[str, Any]:
    measured: dict[str, Any] = {"averageUtilization": value}
    if kind == "target":
        measured["type"] = "Utilization"
    return {"type": "Resource", "resource": {"name": "cpu", kind: measured}}


def hpa_to_v2(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    v2_spec = {k: spec[k] for k in ("scaleTargetRef", "minReplicas", "maxReplicas") if k in spec}
    if spec.get("targetCPUUtilizationPercentage") is not None:
        percent = int(spec["targetCPUUtilizationPercentage"])
        v2_spec["metrics"] = [_cpu_metric("target", percent)]
    converted: dict[str, Any] = {
        "kind": "HorizontalPodAutoscaler",
        "apiVersion": "autoscaling/v2",
        "metadata": obj.get("metadata", {}),
        "spec": v2_spec,
    }
    if status:
        v2_status = {
            k: status[k]
            for k in ("observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas")
            if k in status
        }
        if status.get("currentCPUUtilizationPercentage") is not None:
            percent = int(status["currentCPUUtilizationPercentage"])
            v2_status["currentMetrics"] = [_cpu_metric("current", percent)]
        converted["status"] = v2_status
    return converted


#: Served (apiVersion, kind) -> (stored (group, version, resource), to storage, from storage).
#: Field labels of a converted version and the stored object's field each selects
#: (``AddFieldLabelConversionsForEvent`` in ``pkg/apis/events/v1/conversion.go``); the
#: version's other selectable labels (``reason``, ``type``, ``source``, ``metadata.*``) are
#: the stored ones.
FIELD_LABELS: dict[tuple[str, str], dict[str, str]] = {
    ("events.k8s.io/v1", "Event"): {
        "regarding.kind": "involvedObject.kind",
        "regarding.namespace": "involvedObject.namespace",
        "regarding.name": "involvedObject.name",
        "regarding.uid": "involvedObject.uid",
        "regarding.apiVersion": "involvedObject.apiVersion",
        "regarding.resourceVersion": "involvedObject.resourceVersion",
        "regarding.fieldPath": "involvedObject.fieldPath",
        "reportingController": "reportingComponent",
    },
}

CONVERSIONS: dict[tuple[str, str], tuple[tuple[str, str, str], Convert, Convert]] = {
    ("events.k8s.io/v1", "Event"): (("", "v1", "events"), event_to_core, event_from_core),
    ("autoscaling/v1", "HorizontalPodAutoscaler"): (
        ("autoscaling", "v2", "horizontalpodautoscalers"),
        hpa_to_v2,
        hpa_from_v2,
    ),
}
