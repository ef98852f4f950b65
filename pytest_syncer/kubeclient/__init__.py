"""The asyncio Kubernetes client the long-running parts share: `KubeClient` (any resource as
plain dicts), `Reflector` (list, watch, cache, handlers) and `WorkQueue` (dedup, one worker per
key, backoff). The syncer, the hub's aggregator and the simulator build on it; it builds on
`contract/` only, so none of them imports another to reach a cluster."""
