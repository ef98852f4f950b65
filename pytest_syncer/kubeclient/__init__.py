"""The asyncio Kubernetes client the long-running parts share: `KubeClient` (any resource as
plain dicts), `Reflector` (list, watch, cache, handlers), `WorkQueue` (dedup, one worker per
key, backoff) and `QueueController` (workers serving a `WorkQueue`, started and stopped as one).
The syncer, the hub's aggregator, the simulator and the API server's controllers build on it; it
builds on `contract/` only, so none of them imports another to reach a cluster."""
