"""Graceful deletion: a Pod's DELETE marks it, and the kubelet removes it when it is done.

Sources (kubernetes/kubernetes): ``pkg/registry/core/pod/strategy.go`` ``CheckGracefulDelete``
(the period: the request's ``gracePeriodSeconds``, else the pod's
``spec.terminationGracePeriodSeconds``, else 0; 0 for a pod never scheduled (no
``spec.nodeName``) or already ``Succeeded``/``Failed``; a negative one is 1), and
``staging/src/k8s.io/apiserver/pkg/registry/rest/delete.go`` ``BeforeDelete`` with
``registry/generic/registry/store.go`` ``Delete``/``updateForGracefulDeletionAndFinalizers``:

- the first DELETE stores the object with ``deletionTimestamp`` = now + period,
  ``deletionGracePeriodSeconds`` = period and ``generation`` + 1 (watchers see a MODIFIED);
  with a period of 0 and no finalizers the object is then removed at once (a DELETED follows);
- a later DELETE may only shorten the period (``deletionTimestamp`` moves back by the
  difference); a longer or no period leaves the object as it is ("pending");
- an object marked with a period of 0 (or none) is deleted as any other kind is;
- an update that leaves a marked object without finalizers removes it only when its period is
  0 (``ShouldDeleteDuringUpdate``), so a terminating Pod's status writes keep it.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pytest_syncer.apiserver.api.errors import APIError

GRACEFUL_KEYS = frozenset({"core/pods"})
"""The types whose registry implements ``RESTGracefulDeleteStrategy``."""
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def requested_grace(options: Mapping[str, Any] | None, query: Mapping[str, str]) -> int | None:
    """The DELETE's ``gracePeriodSeconds``: the body's, else the query's; 400 if not a number."""
    value = (options or {}).get("gracePeriodSeconds")
    if value is None:
        value = query.get("gracePeriodSeconds")
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise APIError(400, f"gracePeriodSeconds must be an integer, not {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise APIError(400, f"gracePeriodSeconds must be an integer, not {value!r}") from None


def precondition_failed(
    kind: str, group: str, name: str, field: str, given: str, recorded: str
) -> APIError:
    """``BeforeDelete``'s 409 for a DeleteOptions precondition (``UID`` or ``ResourceVersion``)
    the object does not meet; its Conflict names the kind, not the resource."""
    qualified = f"{kind}.{group}" if group else kind
    consequence = (
        "The object might have been deleted and then recreated"
        if field == "UID"
        else "The object might have been modified"
    )
    return APIError(
        409,
        f'Operation cannot be fulfilled on {qualified} "{name}": the {field} in the '
        f"precondition ({given}) does not match the {field} in record ({recorded}). "
        f"{consequence}",
        reason="Conflict",
        name=name,
        kind=kind,
        group=group,
    )


def pod_grace_period(pod: Mapping[str, Any], requested: int | None) -> int:
    """``CheckGracefulDelete``: the period a DELETE of ``pod`` grants."""
    spec = pod.get("spec") or {}
    if requested is not None:
        period = requested
    else:
        period = int(spec.get("terminationGracePeriodSeconds") or 0)
    if not spec.get("nodeName"):
        period = 0
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        period = 0
    return 1 if period < 0 else period


@dataclass(frozen=True)
class GracefulStep:
    """What a DELETE does first: store ``marked`` (then remove it if ``period`` is 0 and no
    finalizer holds it), or nothing (``pending``: an earlier DELETE's period still runs), or,
    when neither, delete as a kind without graceful deletion would."""

    marked: dict[str, Any] | None = None
    pending: bool = False

    @property
    def period(self) -> int:
        assert self.marked is not None
        return int(self.marked["metadata"]["deletionGracePeriodSeconds"])


def begin(obj: dict[str, Any], requested: int | None, now: datetime.datetime) -> GracefulStep:
    """``BeforeDelete`` for an object of a graceful type."""
    if requested is not None and requested < 0:
        requested = 1
    metadata = obj["metadata"]
    if metadata.get("deletionTimestamp"):
        current = metadata.get("deletionGracePeriodSeconds")
        if not current:
            return GracefulStep()
        if requested is None or requested >= int(current):
            return GracefulStep(pending=True)
        moved = _parse(metadata["deletionTimestamp"]) - datetime.timedelta(seconds=int(current))
        moved += datetime.timedelta(seconds=requested)
        return GracefulStep(marked=_marked(obj, moved, requested, bump=False))
    period = pod_grace_period(obj, requested)
    deadline = now + datetime.timedelta(seconds=period)
    return GracefulStep(marked=_marked(obj, deadline, period, bump=True))


def _marked(
    obj: dict[str, Any], deadline: datetime.datetime, period: int, *, bump: bool
) -> dict[str, Any]:
    metadata = dict(obj["metadata"])
    metadata["deletionTimestamp"] = deadline.strftime(_TIME_FORMAT)
    metadata["deletionGracePeriodSeconds"] = period
    if bump and int(metadata.get("generation") or 0) > 0:
        metadata["generation"] = int(metadata["generation"]) + 1
    return {**obj, "metadata": metadata}


def _parse(timestamp: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(timestamp)


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
