"""The behaviours a syncer must show, each with a stable ID, a one-line statement and a profile.

The IDs are a public interface: a syncer author's CI greps for them, the report is keyed by
them, and the e2e tests name theirs with `@pytest.mark.conformance("ID", ...)`. Rename one only
with a note in docs/harness.md. The statements say what the contract asks (docs/syncer.md and
`pytest_syncer/contract/`), never how the reference syncer does it.
"""

from __future__ import annotations

from dataclasses import dataclass

PROFILES = ("core", "status", "conflicts", "tunnel", "faults")
"""Every behaviour belongs to one; `--syncer-profile core,status` runs a subset."""
MARKER = "conformance"


@dataclass(frozen=True)
class Behaviour:
    id: str
    profile: str
    statement: str
    awaiting: str = ""
    """Set while the behaviour's tests are not in this suite yet: where they come from."""


def _b(id: str, statement: str, awaiting: str = "") -> Behaviour:
    """The profile is the ID's first part."""
    return Behaviour(id, id.split(".", 1)[0], statement, awaiting)


BEHAVIOURS: tuple[Behaviour, ...] = (
    _b(
        "core.placement",
        "a workload labelled for a target gets a copy on that target, and only there",
    ),
    _b("core.update", "an upstream update reaches every copy"),
    _b("core.removal", "removing the placement label removes the copy below, and only there"),
    _b("core.deletion", "deleting upstream deletes every copy, then the upstream object goes"),
    _b(
        "core.naming.namespace-hash",
        "copies live in kcp-<12 base36 digits of the locator hash>, as kcp's test vector says",
    ),
    _b(
        "core.naming.sync-target-key",
        "the placement label is state.workload.kcp.io/<base62 SHA-224 key>, as in kcp's vector",
    ),
    _b(
        "core.transform.upstream-metadata-stripped",
        "placement labels and upstream-only annotations never reach a copy",
    ),
    _b("core.transform.cluster-label", "every copy carries internal.workload.kcp.io/cluster=<key>"),
    _b(
        "core.transform.service-account-detached",
        "pod templates below never mount or name the upstream service account",
    ),
    _b(
        "core.server-fields.left-alone",
        "fields the upstream server sets (uid, status, allocations) are not copied down",
    ),
    _b(
        "core.immutable-fields",
        "a copy that differs from upstream in a field the target refuses to update is deleted "
        "and created again",
    ),
    _b(
        "core.custom-resources",
        "a custom resource named in {resources} syncs as a built-in kind does",
    ),
    _b(
        "core.finalizer",
        "a placed workload carries workload.kcp.io/syncer upstream until every copy is gone",
    ),
    _b(
        "core.soft-finalizer",
        "a non-empty finalizers.workload.kcp.io/<key> keeps the copy after removal, until cleared",
    ),
    _b(
        "core.command-line",
        "a syncer started from the command-line template, one process per target, syncs",
    ),
    _b(
        "status.deployment.aggregate",
        "Deployment status from every target comes up summed, Available only when all are",
    ),
    _b(
        "status.workload-counters.aggregate",
        "StatefulSet, ReplicaSet and DaemonSet counters from every target come up summed",
    ),
    _b(
        "status.job.aggregate",
        "a Job counts every target's pods and fails when one target fails it",
    ),
    _b(
        "status.service.aggregate",
        "a Service's load balancers upstream are the union of every target's",
    ),
    _b(
        "status.custom-resource.per-target",
        "a custom resource's status comes up under status.targets.<target>",
    ),
    _b(
        "status.syncstatus.synced",
        "a SyncStatus per (workload, target): phase Synced, observedGeneration = upstream's",
    ),
    _b(
        "status.syncstatus.deleting",
        "a copy held by the soft finalizer shows phase Deleting on its SyncStatus",
    ),
    _b(
        "status.heartbeat",
        "the syncer heartbeats its SyncTarget (lastSyncerHeartbeatTime advances, Ready=True)",
    ),
    _b(
        "status.heartbeat.stale",
        "a target whose heartbeat stops is reported stale on the workloads placed there",
    ),
    _b("conflicts.upstream-wins", "a drifted copy is put back to what upstream says"),
    _b(
        "conflicts.retain",
        "retained fields keep the downstream value while the rest follows upstream",
    ),
    _b("conflicts.overwrite", "a foreign object below is taken over and made the copy"),
    _b("conflicts.abort", "a foreign object below is left alone and the conflict reported"),
    _b(
        "conflicts.concurrent-writers",
        "many upstream writers converge on the last write everywhere",
    ),
    _b("tunnel.reach", "the hub reaches each target's own API through that target's tunnel"),
    _b(
        "tunnel.allow-list",
        "paths outside the tunnel's allow-list are refused with 403 by the syncer's end",
    ),
    _b(
        "faults.syncer-kill.recovery",
        "a SIGKILLed syncer, restarted, catches up with what changed meanwhile",
    ),
    _b("faults.partition.recovery", "a partitioned target converges once healed"),
    _b("faults.tunnel-drop.recovery", "tunnels come back after the hub drops them"),
    _b(
        "faults.apiserver-restart.recovery",
        "syncing resumes after the upstream API server restarts",
    ),
    _b(
        "faults.tunnel-blackhole.recovery",
        "a tunnel gone silent (no FIN, no RST) is noticed by both ends and dialled again",
    ),
    _b(
        "faults.upstream-blackhole.recovery",
        "a syncer cut off from the upstream goes stale, then converges with no update lost",
    ),
    _b(
        "faults.downstream-down.reported",
        "with its cluster unreachable, a target says so on its SyncStatus and loses nothing",
    ),
    _b(
        "faults.tunnel-reset.no-leak",
        "a storm of tunnel resets leaves no connection behind in the hub or the syncer",
    ),
)

BY_ID = {behaviour.id: behaviour for behaviour in BEHAVIOURS}


def parse_profiles(text: str) -> tuple[str, ...]:
    """`core,status` -> ("core", "status"); an unknown profile is a ValueError."""
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [name for name in chosen if name not in PROFILES]
    if unknown or not chosen:
        raise ValueError(
            f"--syncer-profile takes profiles among {', '.join(PROFILES)}, not {text!r}"
        )
    return chosen
