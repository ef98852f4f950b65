"""What the targets of one syncer process share upstream: informers and finalizer writes.

Each target of a pool would otherwise watch each resource with its own label selector: N
watches that all carry every event of a workload placed on N targets, each parsed N times.
One watch per resource per process, dispatched to the targets whose placement label the
object carries (or carried: a dropped label is a removal), costs O(processes) instead.
A process with a single target keeps kcp's per-target label selector. Likewise the targets
that place one new workload at once add the shared finalizer with one request per process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pytest_syncer.contract.naming import placement_label, sync_target_key
from pytest_syncer.contract.objects import KubeObject
from pytest_syncer.kubeclient.client import KubeClient, Resource
from pytest_syncer.kubeclient.reflector import Change, Handler, Reflector
from pytest_syncer.syncer.engine.finalizer import FinalizerWrites


def carries(obj: KubeObject | None, label: str) -> bool:
    return obj is not None and label in (obj["metadata"].get("labels") or {})


class SharedUpstream:
    """One reflector per synced resource (`subscribe` a target before `start`), one
    finalizer writer."""

    def __init__(
        self,
        client: KubeClient,
        resources: Sequence[Resource],
        upstream_cluster: str,
        target_names: Sequence[str],
    ) -> None:
        keys = [sync_target_key(upstream_cluster, name) for name in target_names]
        selector = placement_label(keys[0]) if len(keys) == 1 else None
        targets = ",".join(target_names)
        self.reflectors = {
            resource.qualified_name: Reflector(
                client,
                resource,
                label_selector=selector,
                name=f"target={targets} upstream {resource.qualified_name}",
            )
            for resource in resources
        }
        self.finalizers = FinalizerWrites()

    def subscribe(self, resource: Resource, key: str, handler: Handler) -> None:
        """Call `handler` for objects that carry, or carried, this target's placement label."""
        label = placement_label(key)

        def placed_here(change: Change, obj: KubeObject, old: KubeObject | None) -> None:
            if carries(obj, label) or carries(old, label):
                handler(change, obj, old)

        self.reflectors[resource.qualified_name].add_handler(placed_here)

    async def start(self) -> None:
        for reflector in self.reflectors.values():
            await reflector.start()

    async def stop(self) -> None:
        await asyncio.gather(*(reflector.stop() for reflector in self.reflectors.values()))
