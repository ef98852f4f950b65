"""The row printers, one per built-in kind, each returning the cells kubectl shows.

The cells follow Kubernetes' own printers (``pkg/printers/internalversion/printers.go``).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from pytest_syncer.apiserver.api.selectors import selector_text
from pytest_syncer.apiserver.http.printing.columns import Cells
from pytest_syncer.apiserver.http.printing.formatting import (
    NONE,
    age,
    condition_true,
    container_cells,
    format_label_selector,
    format_labels,
    human_duration,
    int_at,
    is_deleting,
    list_at,
    map_at,
    maps_at,
    parse_timestamp,
    since,
    size_at,
    str_at,
    value_at,
)


def pod_row(pod: Mapping[str, Any], now: datetime.datetime) -> Cells:
    spec = map_at(pod, "spec")
    status = map_at(pod, "status")
    phase = str_at(status, "phase", "Pending")
    reason = str_at(status, "reason", phase)
    conditions = maps_at(status, "conditions")
    for condition in conditions:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    init_specs = {str_at(c, "name"): c for c in maps_at(spec, "initContainers")}
    sidecars = {name for name, c in init_specs.items() if c.get("restartPolicy") == "Always"}
    total = len(list_at(spec, "containers")) + len(sidecars)
    ready = 0
    restarts = 0
    sidecar_restarts = 0
    last_restart: datetime.datetime | None = None
    sidecar_last_restart: datetime.datetime | None = None
    initializing = False
    init_statuses = maps_at(status, "initContainerStatuses")
    for index, container in enumerate(init_statuses):
        restarts += int_at(container, "restartCount")
        finished = parse_timestamp(value_at(container, "lastState.terminated.finishedAt"))
        last_restart = _latest(last_restart, finished)
        is_sidecar = str_at(container, "name") in sidecars
        if is_sidecar:
            sidecar_restarts += int_at(container, "restartCount")
            sidecar_last_restart = _latest(sidecar_last_restart, finished)
        terminated = _state(container, "terminated")
        waiting = _state(container, "waiting")
        if terminated is not None and int_at(terminated, "exitCode") == 0:
            continue
        if is_sidecar and container.get("started"):
            ready += 1 if container.get("ready") else 0
            continue
        if terminated is not None:
            reason = _terminated_reason(terminated, "Init:")
        elif waiting is not None and str_at(waiting, "reason") not in ("", "PodInitializing"):
            reason = "Init:" + str_at(waiting, "reason")
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break
    if not initializing or condition_true(conditions, "Initialized"):
        restarts = sidecar_restarts
        last_restart = sidecar_last_restart
        running = False
        for container in reversed(maps_at(status, "containerStatuses")):
            restarts += int_at(container, "restartCount")
            finished = parse_timestamp(value_at(container, "lastState.terminated.finishedAt"))
            last_restart = _latest(last_restart, finished)
            waiting = _state(container, "waiting")
            terminated = _state(container, "terminated")
            if waiting is not None and str_at(waiting, "reason"):
                reason = str_at(waiting, "reason")
            elif terminated is not None:
                reason = _terminated_reason(terminated, "")
            elif container.get("ready") and _state(container, "running") is not None:
                running = True
                ready += 1
        if reason == "Completed" and running:
            reason = "Running" if condition_true(conditions, "Ready") else "NotReady"
    if is_deleting(pod) and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif is_deleting(pod) and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        restarts_text = f"{restarts} ({human_duration((now - last_restart).total_seconds())} ago)"
    pod_ips = maps_at(status, "podIPs")
    pod_ip = (str_at(pod_ips[0], "ip") if pod_ips else "") or str_at(status, "podIP", NONE)
    gates = maps_at(spec, "readinessGates")
    readiness = NONE
    if gates:
        passing = sum(
            1 for gate in gates if condition_true(conditions, str_at(gate, "conditionType"))
        )
        readiness = f"{passing}/{len(gates)}"
    return [
        value_at(pod, "metadata.name", ""),
        f"{ready}/{total}",
        reason,
        restarts_text,
        age(pod, now),
        pod_ip,
        str_at(spec, "nodeName", NONE),
        str_at(status, "nominatedNodeName", NONE),
        readiness,
    ]


def _state(container: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    value = value_at(container, f"state.{name}")
    return value if isinstance(value, Mapping) else None


def _terminated_reason(terminated: Mapping[str, Any], prefix: str) -> str:
    if str_at(terminated, "reason"):
        return prefix + str_at(terminated, "reason")
    if int_at(terminated, "signal"):
        return f"{prefix}Signal:{int_at(terminated, 'signal')}"
    return f"{prefix}ExitCode:{int_at(terminated, 'exitCode')}"


def _latest(
    current: datetime.datetime | None, candidate: datetime.datetime | None
) -> datetime.datetime | None:
    if candidate is None:
        return current
    return candidate if current is None or candidate > current else current


def deployment_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    names, images = container_cells(value_at(obj, "spec.template.spec"))
    return [
        value_at(obj, "metadata.name", ""),
        f"{int_at(obj, 'status.readyReplicas')}/{int_at(obj, 'spec.replicas', 1)}",
        int_at(obj, "status.updatedReplicas"),
        int_at(obj, "status.availableReplicas"),
        age(obj, now),
        names,
        images,
        selector_text(value_at(obj, "spec.selector")),
    ]


def replicaset_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    names, images = container_cells(value_at(obj, "spec.template.spec"))
    return [
        value_at(obj, "metadata.name", ""),
        int_at(obj, "spec.replicas", 1),
        int_at(obj, "status.replicas"),
        int_at(obj, "status.readyReplicas"),
        age(obj, now),
        names,
        images,
        format_label_selector(value_at(obj, "spec.selector")),
    ]


def statefulset_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    names, images = container_cells(value_at(obj, "spec.template.spec"))
    return [
        value_at(obj, "metadata.name", ""),
        f"{int_at(obj, 'status.readyReplicas')}/{int_at(obj, 'spec.replicas', 1)}",
        age(obj, now),
        names,
        images,
    ]


def daemonset_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    names, images = container_cells(value_at(obj, "spec.template.spec"))
    return [
        value_at(obj, "metadata.name", ""),
        int_at(obj, "status.desiredNumberScheduled"),
        int_at(obj, "status.currentNumberScheduled"),
        int_at(obj, "status.numberReady"),
        int_at(obj, "status.updatedNumberScheduled"),
        int_at(obj, "status.numberAvailable"),
        format_labels(value_at(obj, "spec.template.spec.nodeSelector")),
        age(obj, now),
        names,
        images,
        format_label_selector(value_at(obj, "spec.selector")),
    ]


def _job_status(obj: Mapping[str, Any]) -> str:
    conditions = list_at(obj, "status.conditions")
    if condition_true(conditions, "Complete"):
        return "Complete"
    if condition_true(conditions, "Failed"):
        return "Failed"
    if is_deleting(obj):
        return "Terminating"
    if condition_true(conditions, "Suspended"):
        return "Suspended"
    if condition_true(conditions, "FailureTarget"):
        return "FailureTarget"
    return "Running"


def job_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    succeeded = int_at(obj, "status.succeeded")
    completions = value_at(obj, "spec.completions")
    parallelism = int_at(obj, "spec.parallelism")
    if isinstance(completions, int) and not isinstance(completions, bool):
        done = f"{succeeded}/{completions}"
    elif parallelism > 1:
        done = f"{succeeded}/1 of {parallelism}"
    else:
        done = f"{succeeded}/1"
    started = parse_timestamp(value_at(obj, "status.startTime"))
    finished = parse_timestamp(value_at(obj, "status.completionTime"))
    took = ""
    if started is not None:
        took = human_duration(((finished or now) - started).total_seconds())
    names, images = container_cells(value_at(obj, "spec.template.spec"))
    return [
        value_at(obj, "metadata.name", ""),
        _job_status(obj),
        done,
        took,
        age(obj, now),
        names,
        images,
        format_label_selector(value_at(obj, "spec.selector")),
    ]


def _bool_text(value: Any) -> str:
    if value is None:
        return "<unset>"
    return "True" if value else "False"


def cronjob_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    last = value_at(obj, "status.lastScheduleTime")
    names, images = container_cells(value_at(obj, "spec.jobTemplate.spec.template.spec"))
    return [
        value_at(obj, "metadata.name", ""),
        str_at(obj, "spec.schedule"),
        str_at(obj, "spec.timeZone", NONE),
        _bool_text(value_at(obj, "spec.suspend")),
        len(list_at(obj, "status.active")),
        since(last, now) if last else NONE,
        age(obj, now),
        names,
        images,
        format_label_selector(value_at(obj, "spec.jobTemplate.spec.selector")),
    ]


def _load_balancer_addresses(obj: Mapping[str, Any]) -> list[str]:
    found = []
    for entry in maps_at(obj, "status.loadBalancer.ingress"):
        address = str_at(entry, "ip") or str_at(entry, "hostname")
        if address and address not in found:
            found.append(address)
    return found


def _service_external_ip(obj: Mapping[str, Any]) -> str:
    service_type = str_at(obj, "spec.type", "ClusterIP")
    external = [str(ip) for ip in list_at(obj, "spec.externalIPs")]
    if service_type in ("ClusterIP", "NodePort"):
        return ",".join(external) or NONE
    if service_type == "LoadBalancer":
        addresses = _load_balancer_addresses(obj) + external
        return ",".join(addresses) or "<pending>"
    if service_type == "ExternalName":
        return str_at(obj, "spec.externalName")
    return "<unknown>"


def _service_ports(obj: Mapping[str, Any]) -> str:
    pieces = []
    for port in maps_at(obj, "spec.ports"):
        protocol = str_at(port, "protocol", "TCP")
        node_port = int_at(port, "nodePort")
        if node_port:
            pieces.append(f"{int_at(port, 'port')}:{node_port}/{protocol}")
        else:
            pieces.append(f"{int_at(port, 'port')}/{protocol}")
    return ",".join(pieces) or NONE


def service_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    cluster_ips = [str(ip) for ip in list_at(obj, "spec.clusterIPs")]
    cluster_ip = cluster_ips[0] if cluster_ips else str_at(obj, "spec.clusterIP", NONE)
    return [
        value_at(obj, "metadata.name", ""),
        str_at(obj, "spec.type", "ClusterIP"),
        cluster_ip,
        _service_external_ip(obj),
        _service_ports(obj),
        age(obj, now),
        format_labels(value_at(obj, "spec.selector")),
    ]


def _endpoints_text(obj: Mapping[str, Any]) -> str:
    subsets = maps_at(obj, "subsets")
    if not subsets:
        return NONE
    shown: list[str] = []
    count = 0
    limit = 3
    for subset in subsets:
        addresses = [str_at(a, "ip") for a in maps_at(subset, "addresses")]
        ports: list[Mapping[str, Any] | None] = [*maps_at(subset, "ports")] or [None]
        for port in ports:
            count += len(addresses)
            for address in addresses:
                if len(shown) < limit:
                    shown.append(
                        address if port is None else _host_port(address, int_at(port, "port"))
                    )
    text = ",".join(shown)
    return f"{text} + {count - limit} more..." if count > limit else text


def _host_port(host: str, port: Any) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def endpoints_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    return [value_at(obj, "metadata.name", ""), _endpoints_text(obj), age(obj, now)]


def namespace_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    return [
        value_at(obj, "metadata.name", ""),
        str_at(obj, "status.phase", "Active"),
        age(obj, now),
    ]


def configmap_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    count = size_at(obj, "data") + size_at(obj, "binaryData")
    return [value_at(obj, "metadata.name", ""), count, age(obj, now)]


def secret_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    return [
        value_at(obj, "metadata.name", ""),
        str_at(obj, "type", "Opaque"),
        size_at(obj, "data"),
        age(obj, now),
    ]


def serviceaccount_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    return [value_at(obj, "metadata.name", ""), size_at(obj, "secrets"), age(obj, now)]


def _event_source(obj: Mapping[str, Any]) -> str:
    component = str_at(obj, "source.component") or str_at(obj, "reportingComponent")
    host = str_at(obj, "source.host") or str_at(obj, "reportingInstance")
    return f"{component}, {host}" if host else component


def event_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    first_stamp = value_at(obj, "firstTimestamp") or value_at(obj, "eventTime")
    first = since(first_stamp, now)
    last = since(value_at(obj, "lastTimestamp"), now) if value_at(obj, "lastTimestamp") else first
    count = int_at(obj, "count")
    series = value_at(obj, "series")
    if isinstance(series, Mapping):
        last = since(series.get("lastObservedTime"), now)
        count = int_at(series, "count")
    elif count == 0:
        count = 1
    kind = str_at(obj, "involvedObject.kind").lower()
    name = str_at(obj, "involvedObject.name")
    return [
        last,
        str_at(obj, "type"),
        str_at(obj, "reason"),
        f"{kind}/{name}" if name else kind,
        str_at(obj, "involvedObject.fieldPath"),
        _event_source(obj),
        str_at(obj, "message").strip(),
        first,
        count,
        value_at(obj, "metadata.name", ""),
    ]


ACCESS_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)


def pvc_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    phase = "Terminating" if is_deleting(obj) else str_at(obj, "status.phase", "Pending")
    volume = str_at(obj, "spec.volumeName")
    capacity = ""
    modes = ""
    if volume:
        capacity = str_at(obj, "status.capacity.storage")
        present = list_at(obj, "status.accessModes")
        modes = ",".join(short for mode, short in ACCESS_MODES if mode in present)
    storage_class = str_at(obj, "spec.storageClassName") or str_at(
        map_at(obj, "metadata.annotations"), "volume.beta.kubernetes.io/storage-class"
    )
    return [
        value_at(obj, "metadata.name", ""),
        phase,
        volume,
        capacity,
        modes,
        storage_class,
        str_at(obj, "spec.volumeAttributesClassName", "<unset>"),
        age(obj, now),
        str_at(obj, "spec.volumeMode", "<unset>"),
    ]


def ingress_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    rules = list_at(obj, "spec.rules")
    hosts = [str_at(rule, "host") for rule in rules if str_at(rule, "host")][:3]
    hosts_text = ",".join(hosts) or "*"
    if len(rules) > 3:
        hosts_text = f"{hosts_text} + {len(rules) - 3} more..."
    return [
        value_at(obj, "metadata.name", ""),
        str_at(obj, "spec.ingressClassName", NONE),
        hosts_text,
        ",".join(_load_balancer_addresses(obj)),
        "80, 443" if list_at(obj, "spec.tls") else "80",
        age(obj, now),
    ]


def lease_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    return [value_at(obj, "metadata.name", ""), str_at(obj, "spec.holderIdentity"), age(obj, now)]


def network_policy_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    selector = value_at(obj, "spec.podSelector", {})
    return [value_at(obj, "metadata.name", ""), format_label_selector(selector), age(obj, now)]


def role_binding_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    users, groups, accounts = [], [], []
    for subject in maps_at(obj, "subjects"):
        kind = subject.get("kind")
        if kind == "User":
            users.append(str_at(subject, "name"))
        elif kind == "Group":
            groups.append(str_at(subject, "name"))
        elif kind == "ServiceAccount":
            accounts.append(f"{str_at(subject, 'namespace')}/{str_at(subject, 'name')}")
    return [
        value_at(obj, "metadata.name", ""),
        f"{str_at(obj, 'roleRef.kind')}/{str_at(obj, 'roleRef.name')}",
        age(obj, now),
        ", ".join(users),
        ", ".join(groups),
        ", ".join(accounts),
    ]


def created_at_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    moment = parse_timestamp(value_at(obj, "metadata.creationTimestamp"))
    stamp = moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""
    return [value_at(obj, "metadata.name", ""), stamp]


def default_row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
    return [value_at(obj, "metadata.name", ""), age(obj, now)]
