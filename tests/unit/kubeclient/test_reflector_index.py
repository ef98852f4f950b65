"""The reflector's indexes follow its cache through adds, relabels, deletes and a relist."""

from __future__ import annotations

from typing import Any

from pytest_syncer.contract.objects import KubeObject
from pytest_syncer.kubeclient.client import SYNC_STATUSES
from pytest_syncer.kubeclient.reflector import Reflector


def _status(name: str, uid: str, version: int) -> KubeObject:
    labels = {"workload.kcp.io/workload-uid": uid} if uid else {}
    return {
        "metadata": {
            "name": name,
            "namespace": "ns",
            "labels": labels,
            "resourceVersion": str(version),
        }
    }


def _uid(obj: KubeObject) -> list[str]:
    uid = obj["metadata"]["labels"].get("workload.kcp.io/workload-uid")
    return [uid] if uid else []


class _Lister:
    """Answers the reflector's one list."""

    def __init__(self, items: list[KubeObject]) -> None:
        self.items = items

    async def list(self, *args: Any, **kwargs: Any) -> KubeObject:
        return {"metadata": {"resourceVersion": "9"}, "items": self.items}


def _names(reflector: Reflector, uid: str) -> list[str]:
    return [obj["metadata"]["name"] for obj in reflector.by_index("uid", uid)]


async def test_by_index_follows_events_and_relists() -> None:
    lister = _Lister([])
    reflector = Reflector(lister, SYNC_STATUSES)  # type: ignore[arg-type]
    reflector.add_index("uid", _uid)
    reflector._apply({"type": "ADDED", "object": _status("a", "u1", 1)})
    reflector._apply({"type": "ADDED", "object": _status("b", "u1", 2)})
    reflector._apply({"type": "ADDED", "object": _status("c", "u2", 3)})
    assert _names(reflector, "u1") == ["a", "b"]
    reflector._apply({"type": "MODIFIED", "object": _status("b", "u2", 4)})
    assert _names(reflector, "u1") == ["a"]
    assert _names(reflector, "u2") == ["b", "c"]
    reflector._apply({"type": "DELETED", "object": _status("a", "u1", 5)})
    assert _names(reflector, "u1") == []
    lister.items = [_status("d", "u1", 6), _status("c", "", 7)]
    await reflector._list()
    assert _names(reflector, "u1") == ["d"]
    assert _names(reflector, "u2") == []


def _viewed(reflector: Reflector, uid: str, name: str) -> str | None:
    obj = reflector.view("uid", uid).get("ns", name)
    return None if obj is None else obj["metadata"]["resourceVersion"]


async def test_a_view_reads_only_its_value_through_events_and_relists() -> None:
    lister = _Lister([])
    reflector = Reflector(lister, SYNC_STATUSES)  # type: ignore[arg-type]
    reflector.add_index("uid", _uid)
    reflector._apply({"type": "ADDED", "object": _status("a", "u1", 1)})
    assert (_viewed(reflector, "u1", "a"), _viewed(reflector, "u2", "a")) == ("1", None)
    reflector._apply({"type": "MODIFIED", "object": _status("a", "u2", 2)})
    assert (_viewed(reflector, "u1", "a"), _viewed(reflector, "u2", "a")) == (None, "2")
    assert reflector.view("uid", "u2").get("other-ns", "a") is None
    reflector._apply({"type": "DELETED", "object": _status("a", "u2", 3)})
    assert _viewed(reflector, "u2", "a") is None
    lister.items = [_status("a", "u1", 4)]
    await reflector._list()
    assert (_viewed(reflector, "u1", "a"), _viewed(reflector, "u2", "a")) == ("4", None)
