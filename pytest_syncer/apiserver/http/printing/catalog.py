"""Which printer each built-in kind gets: its columns and its row; NAME and AGE for the rest."""

from __future__ import annotations

from pytest_syncer.apiserver.http.printing.columns import (
    AGE,
    BINDING_COLUMNS,
    CONTAINERS,
    CREATED_AT,
    IMAGES,
    NAME,
    SELECTOR,
    Column,
    Printer,
)
from pytest_syncer.apiserver.http.printing.printers import (
    configmap_row,
    created_at_row,
    cronjob_row,
    daemonset_row,
    default_row,
    deployment_row,
    endpoints_row,
    event_row,
    ingress_row,
    job_row,
    lease_row,
    namespace_row,
    network_policy_row,
    pod_row,
    pvc_row,
    replicaset_row,
    role_binding_row,
    secret_row,
    service_row,
    serviceaccount_row,
    statefulset_row,
)

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
        pod_row,
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
        deployment_row,
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
        replicaset_row,
    ),
    "StatefulSet": Printer(
        (
            NAME,
            Column("Ready", description="Number of the pod with ready state"),
            AGE,
            CONTAINERS,
            IMAGES,
        ),
        statefulset_row,
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
        daemonset_row,
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
        job_row,
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
        cronjob_row,
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
        service_row,
    ),
    "Endpoints": Printer(
        (NAME, Column("Endpoints", description="Addresses and ports of the endpoints."), AGE),
        endpoints_row,
    ),
    "Namespace": Printer(
        (NAME, Column("Status", description="The status of the namespace"), AGE), namespace_row
    ),
    "ConfigMap": Printer(
        (NAME, Column("Data", description="Number of data and binaryData keys."), AGE),
        configmap_row,
    ),
    "Secret": Printer(
        (
            NAME,
            Column("Type", description="Used to facilitate programmatic handling of secret data."),
            Column("Data", description="Number of data keys."),
            AGE,
        ),
        secret_row,
    ),
    "ServiceAccount": Printer(
        (NAME, Column("Secrets", description="Secrets the service account may use."), AGE),
        serviceaccount_row,
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
        event_row,
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
        pvc_row,
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
        ingress_row,
    ),
    "Lease": Printer(
        (NAME, Column("Holder", description="The current holder of the lease."), AGE), lease_row
    ),
    "NetworkPolicy": Printer(
        (NAME, Column("Pod-Selector", description="Pods the policy applies to."), AGE),
        network_policy_row,
    ),
    "RoleBinding": Printer(BINDING_COLUMNS, role_binding_row),
    "ClusterRoleBinding": Printer(BINDING_COLUMNS, role_binding_row),
    "Role": Printer((NAME, CREATED_AT), created_at_row),
    "ClusterRole": Printer((NAME, CREATED_AT), created_at_row),
    "CustomResourceDefinition": Printer((NAME, CREATED_AT), created_at_row),
}
DEFAULT_PRINTER = Printer(
    (NAME, Column("Age", type="date", description=AGE.description)), default_row
)
