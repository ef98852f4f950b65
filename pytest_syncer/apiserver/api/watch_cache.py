"""The watch cache: decoded current objects, kept by the store's events, that lists read.

kube-apiserver serves a list from its watch cache when ``resourceVersion`` is ``"0"`` and,
since 1.31 (the ``ConsistentListFromCache`` feature, KEP-2340 "Consistent Reads from Cache"),
also when it is unset, once the cache has caught up with etcd's current revision; exact
revisions and continue tokens go to etcd. Here the store tells its listeners of every write
before the write returns, so the cache is always at the store's revision: every list at the
current revision is served from it, and only older snapshots read the store's event log. A
store that keeps decoded objects anyway (the memory store) needs no cache.
"""

from __future__ import annotations

from pytest_syncer.apiserver.store import Store, WatchEvent
from pytest_syncer.apiserver.store.index import ObjectIndex


class WatchCache(ObjectIndex):
    """Every object of ``store`` decoded once, indexed by key and label, updated per event."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        for key, obj in store.all_objects():
            self.put(key, obj)
        store.add_listener(self._observe)

    def _observe(self, event: WatchEvent) -> None:
        if event.type == "DELETED":
            self.remove(event.key)
        else:
            self.put(event.key, event.object)
