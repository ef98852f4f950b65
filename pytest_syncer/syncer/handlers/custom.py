"""Custom resources and any other type named in `--resources`: no per-kind knowledge.

The whole object but its identity, metadata and status is spec; status goes up through the same
reverse transform as every other kind. Readiness follows the conventions most controllers keep
(those kstatus reads): a `Ready` condition decides when there is one, otherwise `Stalled` or
`Reconciling` true, or an `observedGeneration` behind the generation, mean not yet; an object
without any of these has nothing to wait for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_syncer.syncer.handlers.base import KindHandler
from pytest_syncer.syncer.handlers.readiness import (
    condition,
    condition_is,
    generation_observed,
    status_of,
)


def custom_ready(obj: Mapping[str, Any]) -> bool:
    if "observedGeneration" in status_of(obj) and not generation_observed(obj):
        return False
    ready = condition(obj, "Ready")
    if ready is not None:
        return ready.get("status") == "True"
    return not (condition_is(obj, "Stalled", "True") or condition_is(obj, "Reconciling", "True"))


def custom_handler(group: str, resource: str, version: str = "", kind: str = "") -> KindHandler:
    """A handler for `resource.group`; without a `kind` it accepts whatever kind it is given.

    `version` and `kind` only make `api_version` and `kind` say more; sending objects down and
    their status up does not need them.
    """
    api_version = "/".join(part for part in (group, version) if part)
    return KindHandler(api_version, kind, resource, custom_ready, spec_fields=None)
