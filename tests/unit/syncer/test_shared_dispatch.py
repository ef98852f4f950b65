"""The shared upstream informer's dispatch to a pool's targets.

One handler per resource finds an event's targets by placement label (carried now, or before:
a dropped label is a removal) and asks whether an update matters once per event, not once per
target. The reflector is real and fed the watch events a server sends.
"""

from __future__ import annotations

from typing import Any

from pytest_syncer.contract.naming import placement_label, sync_target_key
from pytest_syncer.contract.objects import KubeObject
from pytest_syncer.kubeclient.client import Resource
from pytest_syncer.kubeclient.reflector import Change
from pytest_syncer.syncer.engine.upstream import SharedUpstream

CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")
NAMES = ["t1", "t2", "t3"]
KEYS = {name: sync_target_key("root", name) for name in NAMES}


def _object(version: int, placed_on: list[str], data: str = "a") -> KubeObject:
    labels = {placement_label(KEYS[name]): "Sync" for name in placed_on}
    metadata = {"name": "cm", "namespace": "ns", "uid": "u1", "resourceVersion": str(version)}
    return {"kind": "ConfigMap", "metadata": {**metadata, "labels": labels}, "data": {"k": data}}


class Recorder:
    def __init__(self) -> None:
        self.heard: dict[str, list[Change]] = {name: [] for name in NAMES}
        self.asked = 0

    def handler(self, name: str) -> Any:
        def handle(change: Change, obj: KubeObject, old: KubeObject | None) -> None:
            self.heard[name].append(change)

        return handle

    def data_changed(self, old: KubeObject, new: KubeObject) -> bool:
        self.asked += 1
        return bool(old["data"] != new["data"])


def _shared(recorder: Recorder) -> SharedUpstream:
    none: Any = None
    shared = SharedUpstream(none, [CONFIGMAPS], "root", NAMES)
    for name in NAMES:
        shared.subscribe(CONFIGMAPS, KEYS[name], recorder.handler(name), recorder.data_changed)
    return shared


def test_events_reach_the_targets_placed_now_or_before() -> None:
    recorder = Recorder()
    reflector = _shared(recorder).reflectors[CONFIGMAPS.qualified_name]
    reflector._apply({"type": "ADDED", "object": _object(1, ["t1", "t2"])})
    reflector._apply({"type": "MODIFIED", "object": _object(2, ["t2"], data="b")})
    reflector._apply({"type": "DELETED", "object": _object(3, ["t2"])})
    assert recorder.heard == {
        "t1": [Change.ADDED, Change.MODIFIED],
        "t2": [Change.ADDED, Change.MODIFIED, Change.DELETED],
        "t3": [],
    }


def test_an_update_is_judged_once_for_every_target() -> None:
    recorder = Recorder()
    reflector = _shared(recorder).reflectors[CONFIGMAPS.qualified_name]
    reflector._apply({"type": "ADDED", "object": _object(1, NAMES)})
    reflector._apply({"type": "MODIFIED", "object": _object(2, NAMES)})
    assert recorder.asked == 1
    assert all(heard == [Change.ADDED] for heard in recorder.heard.values())
    reflector._apply({"type": "MODIFIED", "object": _object(3, NAMES, data="b")})
    assert recorder.asked == 2
    assert all(heard == [Change.ADDED, Change.MODIFIED] for heard in recorder.heard.values())


def test_a_failing_target_does_not_keep_the_event_from_the_others() -> None:
    recorder = Recorder()
    shared = _shared(recorder)

    def broken(change: Change, obj: KubeObject, old: KubeObject | None) -> None:
        raise RuntimeError("broken handler")

    shared.subscribe(CONFIGMAPS, KEYS["t1"], broken)
    reflector = shared.reflectors[CONFIGMAPS.qualified_name]
    reflector._apply({"type": "ADDED", "object": _object(1, NAMES)})
    assert all(heard == [Change.ADDED] for heard in recorder.heard.values())


def test_wakes_are_forgotten_when_their_workload_leaves() -> None:
    shared = _shared(Recorder())
    wakes = [{("ns", "u1"), ("ns", "u2")}, {("ns", "u1")}]
    for woken in wakes:
        shared.forget_wakes(woken)
    reflector = shared.reflectors[CONFIGMAPS.qualified_name]
    reflector._apply({"type": "ADDED", "object": _object(1, NAMES)})
    assert wakes == [{("ns", "u1"), ("ns", "u2")}, {("ns", "u1")}]
    reflector._apply({"type": "DELETED", "object": _object(2, NAMES)})
    assert wakes == [{("ns", "u2")}, set()]
