"""Server-side printing: ``meta.k8s.io/v1`` Tables with the columns the real API server sends.

``kubectl get`` asks for ``application/json;as=Table;v=v1;g=meta.k8s.io`` and prints the cells it
gets, so the columns, cell values and age format here follow Kubernetes' own printers. Kinds
without a printer get NAME and AGE, as custom resources without printer columns do; a CRD's
``additionalPrinterColumns`` can be passed in.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_syncer.apiserver.api.selectors import selector_text

INCLUDE_OBJECT_CHOICES = ("None", "Metadata", "Object")
NONE = "<none>"


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "string"
    description: str = ""
    priority: int = 0
    format: str = ""

    def definition(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


Cells = list[Any]
RowPrinter = Callable[[Mapping[str, Any], datetime.datetime], Cells]

NAME = Column("Name", format="name", description="Name must be unique within a namespace.")
AGE = Column("Age", description="CreationTimestamp is when this object was created.")
CONTAINERS = Column(
    "Containers", priority=1, description="Names of each container in the template."
)
IMAGES = Column(
    "Images", priority=1, description="Images referenced by each container in the template."
)
SELECTOR = Column("Selector", priority=1, description="Label selector of the pods.")


def human_duration(seconds: float) -> str:
    """Kubernetes' HumanDuration: ``5s``, ``3m2s``, ``10m``, ``2h5m``, ``2d3h``, ``3y10d``..."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        rest = whole % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def parse_timestamp(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def since(value: Any, now: datetime.datetime) -> str:
    """Age of a timestamp the way kubectl shows it; ``<unknown>`` when there is none."""
    moment = parse_timestamp(value)
    if moment is None:
        return "<unknown>"
    return human_duration((now - moment).total_seconds())


def _get(obj: Any, path: str, default: Any = None) -> Any:
    current = obj
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return default
        current = current[part]
    return default if current is None else current


def _list(obj: Any, path: str) -> list[Any]:
    value = _get(obj, path, [])
    return value if isinstance(value, list) else []


def _map(obj: Any, path: str) -> Mapping[str, Any]:
    value = _get(obj, path)
    return value if isinstance(value, Mapping) else {}


def _maps(obj: Any, path: str) -> list[Mapping[str, Any]]:
    """The objects in the list at ``path``, skipping anything that is not an object."""
    return [item for item in _list(obj, path) if isinstance(item, Mapping)]


def _str(obj: Any, path: str, default: str = "") -> str:
    value = _get(obj, path)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return default
    return str(value) or default


def _size(obj: Any, path: str) -> int:
    value = _get(obj, path)
    return len(value) if isinstance(value, Mapping | list) else 0


def _int(obj: Any, path: str, default: int = 0) -> int:
    value = _get(obj, path, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _age(obj: Mapping[str, Any], now: datetime.datetime) -> str:
    return since(_get(obj, "metadata.creationTimestamp"), now)


def _container_cells(pod_spec: Any) -> tuple[str, str]:
    containers = [c for c in _list(pod_spec, "containers") if isinstance(c, Mapping)]
    return (
        ",".join(str(c.get("name", "")) for c in containers),
        ",".join(str(c.get("image", "")) for c in containers),
    )


def format_label_selector(selector: Any) -> str:
    """metav1.FormatLabelSelector: the selector as text, ``<none>`` when it is empty."""
    return selector_text(selector, "<error>") or NONE


def format_labels(labels: Any) -> str:
    """labels.FormatLabels: sorted ``k=v`` pairs, ``<none>`` when empty."""
    if not isinstance(labels, Mapping) or not labels:
        return NONE
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


def _deleting(obj: Mapping[str, Any]) -> bool:
    return bool(_get(obj, "metadata.deletionTimestamp"))


def _condition_true(conditions: list[Any], kind: str) -> bool:
    for condition in conditions:
        if isinstance(condition, Mapping) and condition.get("type") == kind:
            return condition.get("status") == "True"
    return False


# Printers, one per kind, each returning the cells of one row.


def _pod_row(pod: Mapping[str, Any], now: datetime.datetime) -> Cells:
    spec = _map(pod, "spec")
    status = _map(pod, "status")
    phase = _str(status, "phase", "Pending")
    reason = _str(status, "reason", phase)
    conditions = _maps(status, "conditions")
    for condition in conditions:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    init_specs = {_str(c, "name"): c for c in _maps(spec, "initContainers")}
    sidecars = {name for name, c in init_specs.items() if c.get("restartPolicy") == "Always"}
    total = len(_list(spec, "containers")) + len(sidecars)
    ready = 0
    restarts = 0
    sidecar_restarts = 0
    last_restart: datetime.datetime | None = None
    sidecar_last_restart: datetime.datetime | None = None
    initializing = False
    init_statuses = _maps(status, "initContainerStatuses")
    for index, container in enumerate(init_statuses):
        restarts += _int(container, "restartCount")
        finished = parse_timestamp(_get(container, "lastState.terminated.finishedAt"))
        last_restart = _latest(last_restart, finished)
        is_sidecar = _str(container, "name") in sidecars
        if is_sidecar:
            sidecar_restarts += _int(container, "restartCount")
            sidecar_last_restart = _latest(sidecar_last_restart, finished)
        terminated = _state(container, "terminated")
        waiting = _state(container, "waiting")
        if terminated is not None and _int(terminated, "exitCode") == 0:
            continue
        if is_sidecar and container.get("started"):
            ready += 1 if container.get("ready") else 0
            continue
        if terminated is not None:
            reason = _terminated_reason(terminated, "Init:")
        elif waiting is not None and _str(waiting, "reason") not in ("", "PodInitializing"):
            reason = "Init:" + _str(waiting, "reason")
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break
    if not initializing or _condition_true(conditions, "Initialized"):
        restarts = sidecar_restarts
        last_restart = sidecar_last_restart
        running = False
        for container in reversed(_maps(status, "containerStatuses")):
            restarts += _int(container, "restartCount")
            finished = parse_timestamp(_get(container, "lastState.terminated.finishedAt"))
            last_restart = _latest(last_restart, finished)
            waiting = _state(container, "waiting")
            terminated = _state(container, "terminated")
            if waiting is not None and _str(waiting, "reason"):
                reason = _str(waiting, "reason")
            elif terminated is not None:
                reason = _terminated_reason(terminated, "")
            elif container.get("ready") and _state(container, "running") is not None:
                running = True
                ready += 1
        if reason == "Completed" and running:
            reason = "Running" if _condition_true(conditions, "Ready") else "NotReady"
    if _deleting(pod) and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif _deleting(pod) and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        restarts_text = f"{restarts} ({human_duration((now - last_restart).total_seconds())} ago)"
    pod_ips = _maps(status, "podIPs")
    pod_ip = (_str(pod_ips[0], "ip") if pod_ips else "") or _str(status, "podIP", NONE)
    gates = _maps(spec, "readinessGates")
    readiness = NONE
    if gates:
        passing = sum(
            1 for gate in gates if _condition_true(conditions, _str(gate, "conditionType"))
        )
        readiness = f"{passing}/{len(gates)}"
    return [
        _get(pod, "metadata.name", ""),
        f"{ready}/{total}",
        reason,
        restarts_text,
        _age(pod, now),
        pod_ip,
        _str(spec, "nodeName", NONE),
        _str(status, "nominatedNodeName", NONE),
        readiness,
    ]


def _state(container: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    value = _get(container, f"state.{name}")
    return value if isinstance(value, Mapping) else None


def _terminated_reason(terminated: Mapping[str, Any], prefix: str) -> str:
    if _str(terminated, "reason"):
        return prefix + _str(terminated, "reason")
    if _int(terminated, "signal"):
        return f"{prefix}Signal:{_int(terminated, 'signal')}"
    return f"{prefix}ExitCode:{_int(terminated, 'exitCode')}"


def _latest(
    current: datetime.datetime | None, candidate: datetime.datetime | None
) -> datetime.datetime | None:
    if candidate is None:
        return current
    return candidate if current is None or candidate > current else current


def _deployment_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    names, images = _container_cells(_get(obj, "spec.template.spec"))
    return [
        _get(obj, "metadata.name", ""),
        f"{_int(obj, 'status.readyReplicas')}/{_int(obj, 'spec.replicas', 1)}",
        _int(obj, "status.updatedReplicas"),
        _int(obj, "status.availableReplicas"),
        _age(obj, now),
        names,
        images,
        selector_text(_get(obj, "spec.selector")),
    ]


def _replicaset_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    names, images = _container_cells(_get(obj, "spec.template.spec"))
    return [
        _get(obj, "metadata.name", ""),
        _int(obj, "spec.replicas", 1),
        _int(obj, "status.replicas"),
        _int(obj, "status.readyReplicas"),
        _age(obj, now),
        names,
        images,
        format_label_selector(_get(obj, "spec.selector")),
    ]


def _statefulset_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    names, images = _container_cells(_get(obj, "spec.template.spec"))
    return [
        _get(obj, "metadata.name", ""),
        f"{_int(obj, 'status.readyReplicas')}/{_int(obj, 'spec.replicas', 1)}",
        _age(obj, now),
        names,
        images,
    ]


def _daemonset_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    names, images = _container_cells(_get(obj, "spec.template.spec"))
    return [
        _get(obj, "metadata.name", ""),
        _int(obj, "status.desiredNumberScheduled"),
        _int(obj, "status.currentNumberScheduled"),
        _int(obj, "status.numberReady"),
        _int(obj, "status.updatedNumberScheduled"),
        _int(obj, "status.numberAvailable"),
        format_labels(_get(obj, "spec.template.spec.nodeSelector")),
        _age(obj, now),
        names,
        images,
        format_label_selector(_get(obj, "spec.selector")),
    ]


def _job_status(obj: Mapping[str, Any]) -> str:
    conditions = _list(obj, "status.conditions")
    if _condition_true(conditions, "Complete"):
        return "Complete"
    if _condition_true(conditions, "Failed"):
        return "Failed"
    if _deleting(obj):
        return "Terminating"
    if _condition_true(conditions, "Suspended"):
        return "Suspended"
    if _condition_true(conditions, "FailureTarget"):
        return "FailureTarget"
    return "Running"


def _job_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    succeeded = _int(obj, "status.succeeded")
    completions = _get(obj, "spec.completions")
    parallelism = _int(obj, "spec.parallelism")
    if isinstance(completions, int) and not isinstance(completions, bool):
        done = f"{succeeded}/{completions}"
    elif parallelism > 1:
        done = f"{succeeded}/1 of {parallelism}"
    else:
        done = f"{succeeded}/1"
    started = parse_timestamp(_get(obj, "status.startTime"))
    finished = parse_timestamp(_get(obj, "status.completionTime"))
    took = ""
    if started is not None:
        took = human_duration(((finished or now) - started).total_seconds())
    names, images = _container_cells(_get(obj, "spec.template.spec"))
    return [
        _get(obj, "metadata.name", ""),
        _job_status(obj),
        done,
        took,
        _age(obj, now),
        names,
        images,
        format_label_selector(_get(obj, "spec.selector")),
    ]


def _bool_text(value: Any) -> str:
    if value is None:
        return "<unset>"
    return "True" if value else "False"


def _cronjob_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    last = _get(obj, "status.lastScheduleTime")
    names, images = _container_cells(_get(obj, "spec.jobTemplate.spec.template.spec"))
    return [
        _get(obj, "metadata.name", ""),
        _str(obj, "spec.schedule"),
        _str(obj, "spec.timeZone", NONE),
        _bool_text(_get(obj, "spec.suspend")),
        len(_list(obj, "status.active")),
        since(last, now) if last else NONE,
        _age(obj, now),
        names,
        images,
        format_label_selector(_get(obj, "spec.jobTemplate.spec.selector")),
    ]


def _load_balancer_addresses(obj: Mapping[str, Any]) -> list[str]:
    found = []
    for entry in _maps(obj, "status.loadBalancer.ingress"):
        address = _str(entry, "ip") or _str(entry, "hostname")
        if address and address not in found:
            found.append(address)
    return found


def _service_external_ip(obj: Mapping[str, Any]) -> str:
    service_type = _str(obj, "spec.type", "ClusterIP")
    external = [str(ip) for ip in _list(obj, "spec.externalIPs")]
    if service_type in ("ClusterIP", "NodePort"):
        return ",".join(external) or NONE
    if service_type == "LoadBalancer":
        addresses = _load_balancer_addresses(obj) + external
        return ",".join(addresses) or "<pending>"
    if service_type == "ExternalName":
        return _str(obj, "spec.externalName")
    return "<unknown>"


def _service_ports(obj: Mapping[str, Any]) -> str:
    pieces = []
    for port in _maps(obj, "spec.ports"):
        protocol = _str(port, "protocol", "TCP")
        node_port = _int(port, "nodePort")
        if node_port:
            pieces.append(f"{_int(port, 'port')}:{node_port}/{protocol}")
        else:
            pieces.append(f"{_int(port, 'port')}/{protocol}")
    return ",".join(pieces) or NONE


def _service_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    cluster_ips = [str(ip) for ip in _list(obj, "spec.clusterIPs")]
    cluster_ip = cluster_ips[0] if cluster_ips else _str(obj, "spec.clusterIP", NONE)
    return [
        _get(obj, "metadata.name", ""),
        _str(obj, "spec.type", "ClusterIP"),
        cluster_ip,
        _service_external_ip(obj),
        _service_ports(obj),
        _age(obj, now),
        format_labels(_get(obj, "spec.selector")),
    ]


def _endpoints_text(obj: Mapping[str, Any]) -> str:
    subsets = _maps(obj, "subsets")
    if not subsets:
        return NONE
    shown: list[str] = []
    count = 0
    limit = 3
    for subset in subsets:
        addresses = [_str(a, "ip") for a in _maps(subset, "addresses")]
        ports: list[Mapping[str, Any] | None] = [*_maps(subset, "ports")] or [None]
        for port in ports:
            count += len(addresses)
            for address in addresses:
                if len(shown) < limit:
                    shown.append(
                        address if port is None else _host_port(address, _int(port, "port"))
                    )
    text = ",".join(shown)
    return f"{text} + {count - limit} more..." if count > limit else text


def _host_port(host: str, port: Any) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _endpoints_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    return [_get(obj, "metadata.name", ""), _endpoints_text(obj), _age(obj, now)]


def _namespace_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    return [_get(obj, "metadata.name", ""), _str(obj, "status.phase", "Active"), _age(obj, now)]


def _configmap_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    count = _size(obj, "data") + _size(obj, "binaryData")
    return [_get(obj, "metadata.name", ""), count, _age(obj, now)]


def _secret_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    return [
        _get(obj, "metadata.name", ""),
        _str(obj, "type", "Opaque"),
        _size(obj, "data"),
        _age(obj, now),
    ]


def _serviceaccount_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    return [_get(obj, "metadata.name", ""), _size(obj, "secrets"), _age(obj, now)]


def _event_source(obj: Mapping[str, Any]) -> str:
    component = _str(obj, "source.component") or _str(obj, "reportingComponent")
    host = _str(obj, "source.host") or _str(obj, "reportingInstance")
    return f"{component}, {host}" if host else component


def _event_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    first_stamp = _get(obj, "firstTimestamp") or _get(obj, "eventTime")
    first = since(first_stamp, now)
    last = since(_get(obj, "lastTimestamp"), now) if _get(obj, "lastTimestamp") else first
    count = _int(obj, "count")
    series = _get(obj, "series")
    if isinstance(series, Mapping):
        last = since(series.get("lastObservedTime"), now)
        count = _int(series, "count")
    elif count == 0:
        count = 1
    kind = _str(obj, "involvedObject.kind").lower()
    name = _str(obj, "involvedObject.name")
    return [
        last,
        _str(obj, "type"),
        _str(obj, "reason"),
        f"{kind}/{name}" if name else kind,
        _str(obj, "involvedObject.fieldPath"),
        _event_source(obj),
        _str(obj, "message").strip(),
        first,
        count,
        _get(obj, "metadata.name", ""),
    ]


ACCESS_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)


def _pvc_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    phase = "Terminating" if _deleting(obj) else _str(obj, "status.phase", "Pending")
    volume = _str(obj, "spec.volumeName")
    capacity = ""
    modes = ""
    if volume:
        capacity = _str(obj, "status.capacity.storage")
        present = _list(obj, "status.accessModes")
        modes = ",".join(short for mode, short in ACCESS_MODES if mode in present)
    storage_class = _str(obj, "spec.storageClassName") or _str(
        _map(obj, "metadata.annotations"), "volume.beta.kubernetes.io/storage-class"
    )
    return [
        _get(obj, "metadata.name", ""),
        phase,
        volume,
        capacity,
        modes,
        storage_class,
        _str(obj, "spec.volumeAttributesClassName", "<unset>"),
        _age(obj, now),
        _str(obj, "spec.volumeMode", "<unset>"),
    ]


def _ingress_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    rules = _list(obj, "spec.rules")
    hosts = [_str(rule, "host") for rule in rules if _str(rule, "host")][:3]
    hosts_text = ",".join(hosts) or "*"
    if len(rules) > 3:
        hosts_text = f"{hosts_text} + {len(rules) - 3} more..."
    return [
        _get(obj, "metadata.name", ""),
        _str(obj, "spec.ingressClassName", NONE),
        hosts_text,
        ",".join(_load_balancer_addresses(obj)),
        "80, 443" if _list(obj, "spec.tls") else "80",
        _age(obj, now),
    ]


def _lease_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    return [_get(obj, "metadata.name", ""), _str(obj, "spec.holderIdentity"), _age(obj, now)]


def _network_policy_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    selector = _get(obj, "spec.podSelector", {})
    return [_get(obj, "metadata.name", ""), format_label_selector(selector), _age(obj, now)]


def _role_binding_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    users, groups, accounts = [], [], []
    for subject in _maps(obj, "subjects"):
        kind = subject.get("kind")
        if kind == "User":
            users.append(_str(subject, "name"))
        elif kind == "Group":
            groups.append(_str(subject, "name"))
        elif kind == "ServiceAccount":
            accounts.append(f"{_str(subject, 'namespace')}/{_str(subject, 'name')}")
    return [
        _get(obj, "metadata.name", ""),
        f"{_str(obj, 'roleRef.kind')}/{_str(obj, 'roleRef.name')}",
        _age(obj, now),
        ", ".join(users),
        ", ".join(groups),
        ", ".join(accounts),
    ]


def _created_at_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    moment = parse_timestamp(_get(obj, "metadata.creationTimestamp"))
    stamp = moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""
    return [_get(obj, "metadata.name", ""), stamp]


def _default_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    return [_get(obj, "metadata.name", ""), _age(obj, now)]


CREATED_AT = Column("Created At", type="date", description="CreationTimestamp of the object.")
BINDING_COLUMNS = (
    NAME,
    Column("Role", description="RoleRef of the binding."),
    AGE,
    Column("Users", priority=1, description="Users in the binding"),
    Column("Groups", priority=1, description="Groups in the binding"),
    Column("ServiceAccounts", priority=1, description="ServiceAccounts in the binding"),
)


@dataclass(frozen=True)
class Printer:
    columns: tuple[Column, ...]
    row: RowPrinter


PRINTERS: dict[str, Printer] = {
    "Pod": Printer(
        (
            NAME,
            Column("Ready", description="The aggregate readiness state of this pod."),
            Column("Status", description="The aggregate status of the containers in this pod."),
            Column("Restarts", description="Container restarts, and when the last one was."),
            AGE,
            Column("IP", priority=1, description="IP address allocated to the pod."),
            Column("Node", priority=1, description="The node the pod is scheduled to."),
            Column("Nominated Node", priority=1, description="Node nominated by preemption."),
            Column("Readiness Gates", priority=1, description="Readiness gates that are true."),
        ),
        _pod_row,
    ),
    "Deployment": Printer(
        (
            NAME,
            Column("Ready", description="Number of the pod with ready state"),
            Column("Up-to-date", description="Total number of updated pods."),
            Column("Available", description="Total number of available pods."),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ),
        _deployment_row,
    ),
    "ReplicaSet": Printer(
        (
            NAME,
            Column("Desired", type="integer", description="Desired number of replicas."),
            Column("Current", type="integer", description="Most recently observed replicas."),
            Column("Ready", type="integer", description="Number of ready replicas."),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ),
        _replicaset_row,
    ),
    "StatefulSet": Printer(
        (
            NAME,
            Column("Ready", description="Number of the pod with ready state"),
            AGE,
            CONTAINERS,
            IMAGES,
        ),
        _statefulset_row,
    ),
    "DaemonSet": Printer(
        (
            NAME,
            Column("Desired", type="integer", description="Nodes that should run the pod."),
            Column("Current", type="integer", description="Nodes running at least one pod."),
            Column("Ready", type="integer", description="Nodes with a ready pod."),
            Column("Up-to-date", type="integer", description="Nodes running the updated pod."),
            Column("Available", type="integer", description="Nodes with an available pod."),
            Column("Node Selector", description="Node selector of the pod template."),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ),
        _daemonset_row,
    ),
    "Job": Printer(
        (
            NAME,
            Column("Status", description="Status of the job."),
            Column("Completions", description="The number of pods which reached phase Succeeded."),
            Column("Duration", description="Time required to complete the job."),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ),
        _job_row,
    ),
    "CronJob": Printer(
        (
            NAME,
            Column("Schedule", description="The schedule in Cron format."),
            Column("Timezone", description="The time zone of the schedule."),
            Column("Suspend", type="boolean", description="Whether runs are suspended."),
            Column("Active", type="integer", description="Jobs currently running."),
            Column("Last Schedule", description="When a job was last scheduled."),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ),
        _cronjob_row,
    ),
    "Service": Printer(
        (
            NAME,
            Column("Type", description="How the Service is exposed."),
            Column("Cluster-IP", description="The cluster-internal IP address."),
            Column("External-IP", description="External addresses of the Service."),
            Column("Port(s)", description="The ports the Service exposes."),
            AGE,
            Column("Selector", priority=1, description="Pods the Service routes to."),
        ),
        _service_row,
    ),
    "Endpoints": Printer(
        (NAME, Column("Endpoints", description="Addresses and ports of the endpoints."), AGE),
        _endpoints_row,
    ),
    "Namespace": Printer(
        (NAME, Column("Status", description="The status of the namespace"), AGE), _namespace_row
    ),
    "ConfigMap": Printer(
        (NAME, Column("Data", description="Number of data and binaryData keys."), AGE),
        _configmap_row,
    ),
    "Secret": Printer(
        (
            NAME,
            Column("Type", description="Used to facilitate programmatic handling of secret data."),
            Column("Data", description="Number of data keys."),
            AGE,
        ),
        _secret_row,
    ),
    "ServiceAccount": Printer(
        (NAME, Column("Secrets", description="Secrets the service account may use."), AGE),
        _serviceaccount_row,
    ),
    "Event": Printer(
        (
            Column("Last Seen", description="When the event was last seen."),
            Column("Type", description="Type of this event (Normal, Warning)."),
            Column("Reason", description="Why the action was taken."),
            Column("Object", description="The object this event is about."),
            Column("Subobject", priority=1, description="The part of the object involved."),
            Column("Source", priority=1, description="The component reporting this event."),
            Column("Message", description="A human-readable description of the event."),
            Column("First Seen", priority=1, description="When the event was first seen."),
            Column("Count", priority=1, description="How often this event occurred."),
            Column("Name", priority=1, format="name", description="Name of the event."),
        ),
        _event_row,
    ),
    "PersistentVolumeClaim": Printer(
        (
            NAME,
            Column("Status", description="The phase of the claim."),
            Column("Volume", description="The volume bound to the claim."),
            Column("Capacity", description="The capacity of the bound volume."),
            Column("Access Modes", description="Access modes of the bound volume."),
            Column("StorageClass", description="StorageClass of the pvc"),
            Column("VolumeAttributesClass", description="VolumeAttributesClass of the pvc"),
            AGE,
            Column("VolumeMode", priority=1, description="Block or Filesystem."),
        ),
        _pvc_row,
    ),
    "Ingress": Printer(
        (
            NAME,
            Column("Class", description="The IngressClass handling this ingress."),
            Column("Hosts", description="Hosts that incoming requests are matched against."),
            Column("Address", description="Ingress points of the load balancer."),
            Column("Ports", description="Ports of TLS configurations that open"),
            AGE,
        ),
        _ingress_row,
    ),
    "Lease": Printer(
        (NAME, Column("Holder", description="The current holder of the lease."), AGE), _lease_row
    ),
    "NetworkPolicy": Printer(
        (NAME, Column("Pod-Selector", description="Pods the policy applies to."), AGE),
        _network_policy_row,
    ),
    "RoleBinding": Printer(BINDING_COLUMNS, _role_binding_row),
    "ClusterRoleBinding": Printer(BINDING_COLUMNS, _role_binding_row),
    "Role": Printer((NAME, CREATED_AT), _created_at_row),
    "ClusterRole": Printer((NAME, CREATED_AT), _created_at_row),
    "CustomResourceDefinition": Printer((NAME, CREATED_AT), _created_at_row),
}
DEFAULT_PRINTER = Printer(
    (NAME, Column("Age", type="date", description=AGE.description)), _default_row
)


def printer_from_columns(printer_columns: Sequence[Mapping[str, Any]]) -> Printer:
    """A printer for a custom resource from its CRD's ``additionalPrinterColumns``."""
    columns = [NAME]
    paths = []
    for spec in printer_columns:
        columns.append(
            Column(
                str(spec.get("name", "")),
                type=str(spec.get("type", "string")),
                description=str(spec.get("description", "")),
                priority=int(spec.get("priority", 0)),
                format=str(spec.get("format", "")),
            )
        )
        paths.append((str(spec.get("jsonPath", "")), str(spec.get("type", "string"))))

    def row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
        cells: Cells = [_get(obj, "metadata.name", "")]
        for path, kind in paths:
            cells.append(_column_cell(json_path(obj, path), kind, now))
        return cells

    return Printer(tuple(columns), row)


def _column_cell(values: list[Any], kind: str, now: datetime.datetime) -> Any:
    if not values:
        return None
    if len(values) > 1:
        return ",".join(str(value) for value in values)
    value = values[0]
    if kind == "date" and isinstance(value, str):
        return since(value, now)
    return value


_PATH_TOKEN = re.compile(
    r"\.(?P<name>[^.\[]+)|\[(?P<index>\d+|\*)\]|\[\?\(@\.(?P<key>[\w.-]+)\s*==\s*"
    r"(?P<quote>[\"'])(?P<value>.*?)(?P=quote)\)\]"
)


def json_path(obj: Any, path: str) -> list[Any]:
    """Evaluate the simple JSONPath that CRD printer columns use (``.a.b``, ``[0]``, ``[*]``,
    ``[?(@.type=="Ready")]``); unsupported or missing paths give no values."""
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    current = [obj]
    position = 0
    while position < len(text):
        match = _PATH_TOKEN.match(text, position)
        if match is None:
            return []
        position = match.end()
        current = _step(current, match)
    return [value for value in current if value is not None]


def _step(values: list[Any], match: re.Match[str]) -> list[Any]:
    found: list[Any] = []
    for value in values:
        if match.group("name") is not None:
            if isinstance(value, Mapping) and match.group("name") in value:
                found.append(value[match.group("name")])
        elif match.group("index") is not None:
            if isinstance(value, list):
                if match.group("index") == "*":
                    found.extend(value)
                elif int(match.group("index")) < len(value):
                    found.append(value[int(match.group("index"))])
        elif isinstance(value, list):
            key, wanted = match.group("key"), match.group("value")
            found.extend(item for item in value if str(_get(item, key, "")) == wanted)
    return found


def partial_object_metadata(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(_map(obj, "metadata")),
    }


def to_table(
    kind: str,
    objects: Sequence[Mapping[str, Any]],
    *,
    include_object: str = "Metadata",
    now: datetime.datetime | None = None,
    printer_columns: Sequence[Mapping[str, Any]] | None = None,
    list_metadata: Mapping[str, Any] | None = None,
    include_columns: bool = True,
) -> dict[str, Any]:
    """Render ``objects`` of ``kind`` as a ``meta.k8s.io/v1`` Table.

    ``include_object`` is the request's ``includeObject`` (None, Metadata or Object);
    ``include_columns=False`` leaves out the column definitions, as the server does for
    ``noHeaders`` and after the first event of a watch.
    """
    if include_object not in INCLUDE_OBJECT_CHOICES:
        raise ValueError(
            f"includeObject must be one of {', '.join(INCLUDE_OBJECT_CHOICES)}, "
            f"not {include_object!r}"
        )
    moment = now or datetime.datetime.now(datetime.UTC)
    printer = (
        printer_from_columns(printer_columns)
        if printer_columns
        else PRINTERS.get(kind, DEFAULT_PRINTER)
    )
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": printer.row(obj, moment)}
        if include_object == "Metadata":
            row["object"] = partial_object_metadata(obj)
        elif include_object == "Object":
            row["object"] = dict(obj)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(list_metadata or {}),
        "columnDefinitions": (
            [column.definition() for column in printer.columns] if include_columns else []
        ),
        "rows": rows,
    }
