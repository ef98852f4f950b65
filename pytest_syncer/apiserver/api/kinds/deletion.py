"""What a DELETE answers: the object for the few kinds whose registry returns it, else a Status.

Source: kubernetes/kubernetes ``staging/src/k8s.io/apiserver/pkg/registry/generic/registry/
store.go`` (``finalizeDelete``: a ``Status`` with ``status: Success`` and details naming the
object, ``kind`` being the resource, unless the store sets ``ReturnDeletedObject``), set by
``pkg/registry/core/{pod,service,serviceaccount,persistentvolumeclaim}/storage``; a Namespace's
own Delete answers the namespace. An object that finalizers still hold is answered as it is.
"""

from __future__ import annotations

from typing import Any

RETURN_DELETED_OBJECT = frozenset(
    {
        "core/pods",
        "core/services",
        "core/serviceaccounts",
        "core/persistentvolumeclaims",
        "core/namespaces",
    }
)


def delete_answer(key: str, group: str, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
    """The body of a DELETE's 200 for ``obj`` of the type stored under ``key``."""
    metadata = obj.get("metadata") or {}
    if key in RETURN_DELETED_OBJECT or metadata.get("deletionTimestamp"):
        return obj
    details: dict[str, Any] = {"name": metadata.get("name", "")}
    if group:
        details["group"] = group
    details["kind"] = resource
    details["uid"] = metadata.get("uid", "")
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }
