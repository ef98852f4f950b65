"""One handler class, parameterised per kind: the kind modules only say what differs.

Every handler sends objects down through the transform pipeline and status up through the
transform's reverse function, so the stripping and mapping rules exist once. What a kind adds is
which top-level fields are its spec and when its downstream object counts as ready.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pytest_syncer.contract.errors import InvalidFieldError
from pytest_syncer.contract.objects import KubeObject, copy_json
from pytest_syncer.syncer.conflict.drift import NOT_OWNED_TOP_LEVEL
from pytest_syncer.syncer.interfaces import TransformContext
from pytest_syncer.syncer.transform.pipeline import Pipeline, downstream_pipeline
from pytest_syncer.syncer.transform.status import status_to_upstream

Readiness = Callable[[Mapping[str, Any]], bool]

_SHARED_PIPELINE = downstream_pipeline()


def always_ready(obj: Mapping[str, Any]) -> bool:
    """Kinds no controller acts on (ConfigMap, Secret) are ready once they exist."""
    return True


@dataclass(frozen=True)
class KindHandler:
    """A `WorkloadHandler` for one (group, resource).

    `spec_fields` are the top-level fields the syncer owns; `None` means every top-level field
    but apiVersion, kind, metadata and status (what a custom resource carries). An empty `kind`
    accepts any kind, for custom resources named by their resource alone.
    """

    api_version: str
    kind: str
    resource: str
    readiness: Readiness
    spec_fields: tuple[str, ...] | None = ("spec",)
    pipeline: Pipeline = field(default=_SHARED_PIPELINE, compare=False, repr=False)

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    def with_pipeline(self, pipeline: Pipeline) -> KindHandler:
        """The same handler sending objects through a pipeline with the caller's own steps."""
        return replace(self, pipeline=pipeline)

    def to_downstream(self, obj: KubeObject, context: TransformContext) -> KubeObject:
        kind = obj.get("kind") if isinstance(obj, dict) else None
        if self.kind and kind != self.kind:
            raise InvalidFieldError("kind", f"the {self.kind} handler got a {kind!r} object")
        return self.pipeline(obj, context)

    def status_to_upstream(
        self, downstream_status: Mapping[str, Any], context: TransformContext
    ) -> dict[str, Any]:
        return status_to_upstream(self.kind, downstream_status, context)

    def spec(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        if self.spec_fields is None:
            owned = (key for key in obj if key not in NOT_OWNED_TOP_LEVEL)
        else:
            owned = (key for key in self.spec_fields if key in obj)
        return {key: copy_json(obj[key]) for key in owned}

    def is_ready(self, obj: Mapping[str, Any]) -> bool:
        return self.readiness(obj)
