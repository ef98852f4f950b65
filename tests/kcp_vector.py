"""kcp's naming test vector, as literals: one SyncTarget and one upstream namespace, and the
names kcp derives from them (kcp-dev/kcp `pkg/syncer/shared`: `ToSyncTargetKey` is base62 of
SHA-224 over "<cluster>:<name>"; `PhysicalClusterNamespaceName` is "kcp-" + the first 12 base36
digits of SHA-224 over the locator JSON). Tests compare what the harness and the syncer compute
against these, never against the functions that compute them.
"""

UPSTREAM_CLUSTER = "root:org:ws"
TARGET_NAME = "us-east1"
TARGET_UID = "8c2a0a4e-7f2f-4d7b-9d8f-1f5b3f2a9c10"
NAMESPACE = "default"

SYNC_TARGET_KEY = "1q5XrgW8fxFMT4ZQa6lVIrD2wF7Vaw0fgFzJso"
PLACEMENT_LABEL = "state.workload.kcp.io/1q5XrgW8fxFMT4ZQa6lVIrD2wF7Vaw0fgFzJso"
LOCATOR_JSON = (
    '{"syncTarget":{"cluster":"root:org:ws","name":"us-east1",'
    '"uid":"8c2a0a4e-7f2f-4d7b-9d8f-1f5b3f2a9c10"},"cluster":"root:org:ws","namespace":"default"}'
)
DOWNSTREAM_NAMESPACE = "kcp-h18qw0zs4dlx"
