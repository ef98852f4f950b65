"""The mutating admission every real cluster runs on a new Pod, and naive syncers trip over.

Sources (kubernetes/kubernetes, each plugin enabled by default):
``plugin/pkg/admission/defaulttolerationseconds/admission.go``: a Pod that does not already
tolerate them gets NoExecute tolerations of ``node.kubernetes.io/not-ready`` and
``node.kubernetes.io/unreachable`` for 300 s (a toleration with that key, or no key, and effect
NoExecute, or none, counts); ``plugin/pkg/admission/serviceaccount/admission.go``:
``serviceAccountName`` ``default`` when unset, and unless ``automountServiceAccountToken`` is
false on the Pod (or, when the Pod says nothing, on its ServiceAccount) the projected volume
``kube-api-access-<5 characters>`` (a 3607 s token, the namespace's ``kube-root-ca.crt`` and its
namespace) mounted read-only at ``/var/run/secrets/kubernetes.io/serviceaccount`` in every
container and init container that mounts nothing there (the kubernetes.io documentation's
"bound service account token volume" shows the same); ``plugin/pkg/admission/priority``: without
a ``priorityClassName`` (and no global default class), ``priority`` 0 and ``preemptionPolicy``
PreemptLowerPriority. Creates only, as the plugins admit only creates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pytest_syncer.apiserver.api.kinds.tree import child, items

TOKEN_VOLUME_PREFIX = "kube-api-access-"
TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
TOKEN_EXPIRATION_SECONDS = 3607
DEFAULT_SERVICE_ACCOUNT = "default"
DEFAULT_TOLERATION_SECONDS = 300
NODE_TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")


def token_volume(name: str) -> dict[str, Any]:
    """The projected volume the ServiceAccount plugin adds."""
    return {
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {
                    "serviceAccountToken": {
                        "expirationSeconds": TOKEN_EXPIRATION_SECONDS,
                        "path": "token",
                    }
                },
                {
                    "configMap": {
                        "name": "kube-root-ca.crt",
                        "items": [{"key": "ca.crt", "path": "ca.crt"}],
                    }
                },
                {
                    "downwardAPI": {
                        "items": [
                            {
                                "path": "namespace",
                                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                            }
                        ]
                    }
                },
            ],
        },
    }


def _tolerates(tolerations: list[Any], key: str) -> bool:
    return any(
        isinstance(toleration, Mapping)
        and toleration.get("key") in (key, None, "")
        and toleration.get("effect") in ("NoExecute", None, "")
        for toleration in tolerations
    )


def _default_tolerations(spec: dict[str, Any]) -> None:
    tolerations = spec.get("tolerations")
    present = list(tolerations) if isinstance(tolerations, list) else []
    added = [
        {
            "key": key,
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
        }
        for key in NODE_TAINTS
        if not _tolerates(present, key)
    ]
    if added:
        spec["tolerations"] = present + added


def _automounts(spec: Mapping[str, Any], account: Mapping[str, Any] | None) -> bool:
    own = spec.get("automountServiceAccountToken")
    if isinstance(own, bool):
        return own
    inherited = (account or {}).get("automountServiceAccountToken")
    return inherited if isinstance(inherited, bool) else True


def _mount_token(spec: dict[str, Any], generate_name: Callable[[str], str]) -> None:
    volumes = items(spec, "volumes")
    existing = next(
        (v["name"] for v in volumes if str(v.get("name", "")).startswith(TOKEN_VOLUME_PREFIX)),
        None,
    )
    name = existing or generate_name(TOKEN_VOLUME_PREFIX)
    mount = {"name": name, "readOnly": True, "mountPath": TOKEN_MOUNT_PATH}
    needed = False
    for field in ("initContainers", "containers"):
        for container in items(spec, field):
            mounts = container.get("volumeMounts")
            present = list(mounts) if isinstance(mounts, list) else []
            if any(
                isinstance(m, Mapping) and m.get("mountPath") == TOKEN_MOUNT_PATH for m in present
            ):
                continue
            container["volumeMounts"] = [*present, dict(mount)]
            needed = True
    if needed and existing is None:
        current = spec.get("volumes")
        spec["volumes"] = [*(current if isinstance(current, list) else []), token_volume(name)]


def admit_pod(
    obj: dict[str, Any],
    account: Mapping[str, Any] | None,
    generate_name: Callable[[str], str],
) -> dict[str, Any]:
    """A new Pod as the default mutating admission leaves it; ``account`` is its
    ServiceAccount as stored (None when absent)."""
    result = dict(obj)
    spec = child(result, "spec")
    if spec is None:
        return result
    if not spec.get("priorityClassName"):
        spec.setdefault("priority", 0)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    _default_tolerations(spec)
    if not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = spec.get("serviceAccount") or DEFAULT_SERVICE_ACCOUNT
    # v1 conversion writes the deprecated field back as the name (Convert_core_PodSpec_To_v1)
    spec["serviceAccount"] = spec["serviceAccountName"]
    if _automounts(spec, account):
        _mount_token(spec, generate_name)
    return result


def service_account_name(obj: Mapping[str, Any]) -> str:
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        return DEFAULT_SERVICE_ACCOUNT
    return str(
        spec.get("serviceAccountName") or spec.get("serviceAccount") or DEFAULT_SERVICE_ACCOUNT
    )
