"""Objects every cluster makes for itself, renamed so the upstream copy never fights them.

Each namespace of a real cluster gets its own `kube-root-ca.crt` ConfigMap (and, before 1.24, its
own `default-token-*` Secrets); the upstream's copies go down as `kcp-root-ca.crt` and
`kcp-default-token-*` instead. Token Secrets also become `Opaque` without service-account
annotations, or the downstream token controller would rewrite or delete them.
"""

from __future__ import annotations

from pytest_syncer.contract.errors import ReservedNameError
from pytest_syncer.contract.objects import KubeObject
from pytest_syncer.syncer.interfaces import TransformContext
from pytest_syncer.syncer.transform.objects import filter_metadata_map, group_of, with_metadata

ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
DOWNSTREAM_ROOT_CA_CONFIGMAP = "kcp-root-ca.crt"
TOKEN_SECRET_PREFIX = "default-token-"
DOWNSTREAM_PREFIX = "kcp-"
DOWNSTREAM_TOKEN_SECRET_PREFIX = DOWNSTREAM_PREFIX + TOKEN_SECRET_PREFIX
SERVICE_ACCOUNT_TOKEN_TYPE = "kubernetes.io/service-account-token"
SERVICE_ACCOUNT_ANNOTATION_PREFIX = "kubernetes.io/service-account."
OPAQUE_SECRET_TYPE = "Opaque"
NAME_LIMIT = 253


def downstream_name(kind: str, name: str) -> str:
    """The name a core-group object of this kind gets below.

    A token Secret whose prefixed name would exceed 253 characters keeps its name: it cannot
    collide with a renamed one, and the mapping stays reversible.
    """
    if kind == "ConfigMap" and name == ROOT_CA_CONFIGMAP:
        return DOWNSTREAM_ROOT_CA_CONFIGMAP
    if (
        kind == "Secret"
        and name.startswith(TOKEN_SECRET_PREFIX)
        and len(DOWNSTREAM_PREFIX) + len(name) <= NAME_LIMIT
    ):
        return DOWNSTREAM_PREFIX + name
    return name


def upstream_name(kind: str, name: str) -> str:
    """The inverse of `downstream_name`."""
    if kind == "ConfigMap" and name == DOWNSTREAM_ROOT_CA_CONFIGMAP:
        return ROOT_CA_CONFIGMAP
    if kind == "Secret" and name.startswith(DOWNSTREAM_TOKEN_SECRET_PREFIX):
        return name[len(DOWNSTREAM_PREFIX) :]
    return name


def is_reserved_upstream_name(kind: str, name: str) -> bool:
    """Upstream names that a renamed object takes below, so they cannot be synced as they are."""
    return (kind == "ConfigMap" and name == DOWNSTREAM_ROOT_CA_CONFIGMAP) or (
        kind == "Secret" and name.startswith(DOWNSTREAM_TOKEN_SECRET_PREFIX)
    )


def rename_down(obj: KubeObject, context: TransformContext) -> KubeObject:
    """`kube-root-ca.crt` -> `kcp-root-ca.crt`, `default-token-*` -> `kcp-default-token-*`."""
    if group_of(obj):
        return obj
    kind, name = obj["kind"], obj["metadata"]["name"]
    if is_reserved_upstream_name(kind, name):
        raise ReservedNameError(
            "metadata.name", f"{kind} name {name!r} is reserved below for a renamed object"
        )
    renamed = downstream_name(kind, name)
    return obj if renamed == name else with_metadata(obj, name=renamed)


def rename_up(obj: KubeObject, context: TransformContext) -> KubeObject:
    """Undo `rename_down` for an object read from below."""
    if group_of(obj):
        return obj
    name = obj["metadata"]["name"]
    original = upstream_name(obj["kind"], name)
    return obj if original == name else with_metadata(obj, name=original)


def is_token_secret(obj: KubeObject) -> bool:
    return obj.get("type") == SERVICE_ACCOUNT_TOKEN_TYPE or obj["metadata"]["name"].startswith(
        (TOKEN_SECRET_PREFIX, DOWNSTREAM_TOKEN_SECRET_PREFIX)
    )


def convert_token_secret(obj: KubeObject, context: TransformContext) -> KubeObject:
    """Make a service-account token Secret a plain `Opaque` one the downstream leaves alone."""
    if group_of(obj) or not is_token_secret(obj):
        return obj
    stripped = filter_metadata_map(
        obj, "annotations", lambda name: name.startswith(SERVICE_ACCOUNT_ANNOTATION_PREFIX)
    )
    if stripped.get("type") == OPAQUE_SECRET_TYPE:
        return stripped
    return {**stripped, "type": OPAQUE_SECRET_TYPE}
