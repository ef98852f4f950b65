"""TokenRequest (``serviceaccounts/<name>/token``): a token for a ServiceAccount, with expiry.

As in Kubernetes (``pkg/registry/core/serviceaccount/storage/token.go`` and
``pkg/apis/authentication/validation``): ``spec.expirationSeconds`` defaults to an hour and must
lie between 10 minutes and 2^32 seconds, ``spec.audiences`` defaults to the server's own, and
``spec.boundObjectRef`` may bind the token to a Pod or Secret of the namespace as well, which
must exist (with the given uid). The token is valid in its logical cluster only, until it
expires or the objects it is bound to are deleted.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Sequence
from typing import Any

from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.object_api import ObjectAPI
from pytest_syncer.apiserver.api.objects import now_timestamp
from pytest_syncer.apiserver.api.resources import ResourcePath
from pytest_syncer.apiserver.api.validation.field_errors import invalid, invalid_message
from pytest_syncer.apiserver.auth import API_AUDIENCE, BoundObject

GROUP = "authentication.k8s.io"
DEFAULT_EXPIRATION_SECONDS = 3600
MIN_EXPIRATION_SECONDS = 10 * 60
MAX_EXPIRATION_SECONDS = 1 << 32
#: The kinds a token may be bound to besides its ServiceAccount, and their resources.
BINDABLE = {"Pod": "pods", "Secret": "secrets"}

#: Issues a token: (cluster, bound objects, audiences, seconds) -> (token, expiry epoch).
Issue = Callable[[str, Sequence[BoundObject], Sequence[str], int], tuple[str, int]]


def _expiration(spec: dict[str, Any], name: str) -> int:
    seconds = spec.get("expirationSeconds")
    if seconds is None:
        return DEFAULT_EXPIRATION_SECONDS
    errors = []
    if not isinstance(seconds, int) or seconds < MIN_EXPIRATION_SECONDS:
        detail = "may not specify a duration less than 10 minutes"
        errors.append(invalid("spec.expirationSeconds", seconds, detail))
    elif seconds > MAX_EXPIRATION_SECONDS:
        detail = "may not specify a duration larger than 2^32 seconds"
        errors.append(invalid("spec.expirationSeconds", seconds, detail))
    if errors:
        raise APIError(
            422,
            invalid_message(f"TokenRequest.{GROUP}", name, errors),
            name=name,
            kind="TokenRequest",
            group=GROUP,
            causes=[error.to_cause() for error in errors],
        )
    return int(seconds)


def _bound_object(api: ObjectAPI, path: ResourcePath, reference: Any) -> BoundObject:
    """The Pod or Secret ``boundObjectRef`` names, which must exist with the uid given."""
    reference = reference if isinstance(reference, dict) else {}
    kind = str(reference.get("kind") or "")
    api_version = str(reference.get("apiVersion") or "v1")
    if api_version != "v1" or kind not in BINDABLE:
        raise APIError(
            400,
            f'cannot bind token for serviceaccount "{path.name}" to object of type '
            f"{api_version}, Kind={kind}",
        )
    resource_type = api.registry.require("", "v1", BINDABLE[kind])
    name = str(reference.get("name") or "")
    target = ResourcePath(path.cluster, resource_type, path.namespace, name)
    uid = str(api.get(target)["metadata"]["uid"])
    given = reference.get("uid")
    if given and given != uid:
        raise APIError(
            409,
            f'Operation cannot be fulfilled on {kind} "{name}": the UID in the bound object '
            f"reference ({given}) does not match the UID in record. The object might have been "
            "deleted and then recreated",
            reason="Conflict",
            name=name,
            kind=kind,
        )
    return BoundObject(kind, path.namespace or "", name, uid)


def request_token(
    api: ObjectAPI, path: ResourcePath, body: dict[str, Any], issue: Issue
) -> dict[str, Any]:
    """Answer a TokenRequest for the ServiceAccount ``path`` names (its ``token`` subresource)."""
    assert path.cluster is not None
    assert path.name is not None
    given = body.get("spec")
    spec: dict[str, Any] = given if isinstance(given, dict) else {}
    expiration = _expiration(spec, path.name)
    audiences = [str(a) for a in spec.get("audiences") or []] or [API_AUDIENCE]
    account = api.get(dataclasses.replace(path, subresource=None))
    uid = account["metadata"]["uid"]
    bound = [BoundObject("ServiceAccount", path.namespace or "", path.name, uid)]
    reference = spec.get("boundObjectRef")
    if reference is not None:
        bound.append(_bound_object(api, path, reference))
    token, expires = issue(path.cluster, bound, audiences, expiration)
    expiry = datetime.datetime.fromtimestamp(expires, datetime.UTC)
    return {
        "kind": "TokenRequest",
        "apiVersion": f"{GROUP}/v1",
        "metadata": {
            "name": path.name,
            "namespace": path.namespace,
            "creationTimestamp": now_timestamp(),
        },
        "spec": {
            "audiences": audiences,
            "expirationSeconds": expiration,
            "boundObjectRef": reference,
        },
        "status": {"token": token, "expirationTimestamp": expiry.strftime("%Y-%m-%dT%H:%M:%SZ")},
    }
