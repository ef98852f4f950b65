"""The names kcp derives: sync target keys, namespace locators, downstream namespaces, and the
labels and annotations that carry them.

A syncer under test and the harness checking it must agree with kcp byte for byte, so each
formula is kcp's (`pkg/syncer/shared` in kcp-dev/kcp: `ToSyncTargetKey`, `NamespaceLocator`,
`PhysicalClusterNamespaceName`) and the unit tests pin kcp's test vector as literals. Standard
library only: everything else builds on this module.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache

PLACEMENT_LABEL_PREFIX = "state.workload.kcp.io/"
"""Upstream label `state.workload.kcp.io/<key>`: `Sync`, `Upsync` or `""` (pending)."""
CLUSTER_LABEL = "internal.workload.kcp.io/cluster"
"""Downstream label whose value is the sync target key; it marks an object as this syncer's."""
LOCATOR_ANNOTATION = "kcp.io/namespace-locator"
"""Downstream namespace annotation holding the locator JSON it was named after."""
CLUSTER_ANNOTATION = "kcp.io/cluster"
"""kcp's annotation naming the logical cluster an upstream object lives in."""
STATUS_ANNOTATION_PREFIX = "experimental.status.workload.kcp.io/"
SOFT_FINALIZER_ANNOTATION_PREFIX = "finalizers.workload.kcp.io/"
DELETION_ANNOTATION_PREFIX = "deletion.internal.workload.kcp.io/"
SYNCER_DOMAIN_PREFIX = "workload.kcp.io/"
"""Annotations and labels of the syncer itself (conflict strategy, retained fields, ...)."""
SYNC_TARGET_KEY_LABEL = "workload.kcp.io/sync-target-key"
"""SyncStatus label: the key of the target the record is about."""
WORKLOAD_UID_LABEL = "workload.kcp.io/workload-uid"
"""SyncStatus label: the uid of the upstream workload the record is about."""
SYNC_STATUS_API_VERSION = "workload.kcp.io/v1alpha1"
SYNC_STATUS_KIND = "SyncStatus"
SYNC_TARGET_API_VERSION = "workload.kcp.io/v1alpha1"
SYNC_TARGET_KIND = "SyncTarget"
DOWNSTREAM_NAMESPACE_PREFIX = "kcp-"
DOWNSTREAM_NAMESPACE_HASH_LENGTH = 12

_BASE62_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_BASE36_DIGITS = _BASE62_DIGITS[:36]
_GO_EXTRA_ESCAPES = re.compile("[<>&\u2028\u2029\ud800-\udfff]")


def _digits(number: int, alphabet: str) -> str:
    """Write a non-negative integer in the given alphabet, no leading zeros (Go big.Int.Text)."""
    if number == 0:
        return alphabet[0]
    base = len(alphabet)
    out: list[str] = []
    while number:
        number, remainder = divmod(number, base)
        out.append(alphabet[remainder])
    return "".join(reversed(out))


def base62(data: bytes) -> str:
    """Bytes read as one big-endian integer, digits 0-9a-zA-Z (Go `big.Int.Text(62)`)."""
    return _digits(int.from_bytes(data, "big"), _BASE62_DIGITS)


def base36(data: bytes) -> str:
    """Lower-case base36 with one `0` per leading zero byte, as martinlindhe/base36 writes it."""
    zero_bytes = len(data) - len(data.lstrip(b"\0"))
    rest = data[zero_bytes:]
    return "0" * zero_bytes + (_digits(int.from_bytes(rest, "big"), _BASE36_DIGITS) if rest else "")


@lru_cache(maxsize=4096)
def sync_target_key(upstream_cluster: str, target_name: str) -> str:
    """The key every label and namespace of one target is derived from."""
    digest = hashlib.sha224(f"{upstream_cluster}:{target_name}".encode()).digest()
    return base62(digest)


def placement_label(key: str) -> str:
    """The upstream label that places an object on the target with this key."""
    return PLACEMENT_LABEL_PREFIX + key


def _go_escape(match: re.Match[str]) -> str:
    char = match.group()
    if "\ud800" <= char <= "\udfff":
        return "\\ufffd"
    return f"\\u{ord(char):04x}"


def go_json_string(value: str) -> str:
    """A JSON string literal exactly as Go's `json.Marshal` writes it.

    Go escapes `<`, `>`, `&`, U+2028 and U+2029 (HTML safety) and replaces invalid UTF-8 (here:
    lone surrogates) with `\\ufffd`; Python's `json.dumps` agrees on everything else.
    """
    return _GO_EXTRA_ESCAPES.sub(_go_escape, json.dumps(value, ensure_ascii=False))


@lru_cache(maxsize=16384)
def locator_json(
    target_cluster: str, target_name: str, target_uid: str, cluster: str, namespace: str
) -> str:
    """The compact locator JSON in Go struct field order; hashed into the namespace name.
    Cached: a syncer compares its namespaces' annotations with it in every reconcile."""
    return (
        f'{{"syncTarget":{{"cluster":{go_json_string(target_cluster)},'
        f'"name":{go_json_string(target_name)},"uid":{go_json_string(target_uid)}}},'
        f'"cluster":{go_json_string(cluster)},"namespace":{go_json_string(namespace)}}}'
    )


@lru_cache(maxsize=16384)
def downstream_namespace(
    target_cluster: str, target_name: str, target_uid: str, cluster: str, namespace: str
) -> str:
    """The downstream namespace of a locator given by its parts; cached, as the syncer asks the
    same few questions for every object it transforms."""
    return namespace_for_locator(
        locator_json(target_cluster, target_name, target_uid, cluster, namespace)
    )


def namespace_for_locator(locator: str) -> str:
    """`kcp-` + the first 12 base36 digits of SHA-224 over the locator JSON."""
    digest = hashlib.sha224(locator.encode()).digest()
    return DOWNSTREAM_NAMESPACE_PREFIX + base36(digest)[:DOWNSTREAM_NAMESPACE_HASH_LENGTH]


SYNC_STATUS_NAME_LIMIT = 253
_SYNC_STATUS_HASH_LENGTH = 16


def sync_status_name(resource: str, workload_name: str, target_name: str) -> str:
    """`<resource>.<workload name>.<target name>`, hashed down to fit 253 characters.

    A long name keeps its readable head and ends in a hash of the whole, so two long names
    that share a head still differ.
    """
    full = f"{resource}.{workload_name}.{target_name}"
    if len(full) <= SYNC_STATUS_NAME_LIMIT:
        return full
    digest = base36(hashlib.sha224(full.encode()).digest())[:_SYNC_STATUS_HASH_LENGTH]
    head = full[: SYNC_STATUS_NAME_LIMIT - 1 - _SYNC_STATUS_HASH_LENGTH].rstrip(".-")
    return f"{head}.{digest}"
