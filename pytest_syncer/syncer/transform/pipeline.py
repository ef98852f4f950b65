"""An ordered, named registry of transform steps, and the two built-in pipelines.

A branch author extends a pipeline by registering a step before or after a named one, or for
some kinds only, without editing ours: `downstream_pipeline()` returns a fresh registry each
call, so one author's steps never leak into another's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from pytest_syncer.contract.objects import KubeObject, copy_json
from pytest_syncer.syncer.interfaces import TransformContext, TransformStep
from pytest_syncer.syncer.transform.metadata import (
    add_cluster_label,
    map_namespace_down,
    map_namespace_up,
    strip_cluster_label,
    strip_server_metadata,
    strip_upstream_annotations,
    strip_upstream_labels,
)
from pytest_syncer.syncer.transform.renames import convert_token_secret, rename_down, rename_up
from pytest_syncer.syncer.transform.services import drop_allocated_service_fields
from pytest_syncer.syncer.transform.status import drop_status, status_up
from pytest_syncer.syncer.transform.validation import validate_object
from pytest_syncer.syncer.transform.workloads import (
    POD_TEMPLATE_KINDS,
    detach_service_account,
    drop_generated_job_selector,
)

StepT = TypeVar("StepT", bound=TransformStep)


@dataclass(frozen=True)
class RegisteredStep:
    """A step under its name; `kinds` limits it to objects of those kinds (`None`: all)."""

    name: str
    step: TransformStep
    kinds: frozenset[str] | None = None

    def applies_to(self, kind: object) -> bool:
        return self.kinds is None or kind in self.kinds


class Pipeline:
    """Runs its steps in order; the result shares nothing with the caller's object."""

    def __init__(self, steps: Iterable[RegisteredStep] = ()) -> None:
        self._steps: list[RegisteredStep] = []
        for registered in steps:
            self._insert(len(self._steps), registered)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(registered.name for registered in self._steps)

    @property
    def steps(self) -> tuple[RegisteredStep, ...]:
        return tuple(self._steps)

    def copy(self) -> Pipeline:
        return Pipeline(self._steps)

    def _index(self, name: str) -> int:
        for index, registered in enumerate(self._steps):
            if registered.name == name:
                return index
        raise ValueError(f"no step named {name!r}; steps are {list(self.names)}")

    def _insert(self, index: int, registered: RegisteredStep) -> None:
        if registered.name in self.names:
            raise ValueError(f"a step named {registered.name!r} is already registered")
        self._steps.insert(index, registered)

    def register(
        self,
        name: str,
        step: TransformStep,
        *,
        before: str | None = None,
        after: str | None = None,
        kinds: Iterable[str] | None = None,
    ) -> None:
        """Add a step at the end, or just before or after the named one."""
        if before is not None and after is not None:
            raise ValueError("give before or after, not both")
        if before is not None:
            index = self._index(before)
        elif after is not None:
            index = self._index(after) + 1
        else:
            index = len(self._steps)
        self._insert(index, RegisteredStep(name, step, None if kinds is None else frozenset(kinds)))

    def step(
        self,
        name: str,
        *,
        before: str | None = None,
        after: str | None = None,
        kinds: Iterable[str] | None = None,
    ) -> Callable[[StepT], StepT]:
        """`register` as a decorator; the function is returned unchanged."""

        def decorate(step: StepT) -> StepT:
            self.register(name, step, before=before, after=after, kinds=kinds)
            return step

        return decorate

    def remove(self, name: str) -> None:
        """Drop a step, for a syncer that deliberately does without one of ours."""
        del self._steps[self._index(name)]

    def __call__(self, obj: KubeObject, context: TransformContext) -> KubeObject:
        """The steps share what they do not change with their input (none mutates it), so the
        one private copy is taken of the result: what the steps dropped (managedFields, the
        placement labels of every other target) is never copied."""
        result = obj
        for registered in self._steps:
            kind = result.get("kind") if isinstance(result, dict) else None
            if registered.applies_to(kind):
                result = registered.step(result, context)
        copied: KubeObject = copy_json(result)
        return copied


def downstream_pipeline() -> Pipeline:
    """Upstream object -> what the target receives, by kcp's TMC conventions (docs/transforms.md
    lists what is stripped, added and renamed)."""
    return Pipeline(
        [
            RegisteredStep("validate", validate_object),
            RegisteredStep("strip-upstream-labels", strip_upstream_labels),
            RegisteredStep("strip-upstream-annotations", strip_upstream_annotations),
            RegisteredStep("strip-server-metadata", strip_server_metadata),
            RegisteredStep("drop-status", drop_status),
            RegisteredStep("convert-token-secret", convert_token_secret, frozenset({"Secret"})),
            RegisteredStep("rename", rename_down, frozenset({"ConfigMap", "Secret"})),
            RegisteredStep("map-namespace", map_namespace_down),
            RegisteredStep("add-cluster-label", add_cluster_label),
            RegisteredStep("detach-service-account", detach_service_account, POD_TEMPLATE_KINDS),
            RegisteredStep(
                "drop-generated-job-selector", drop_generated_job_selector, frozenset({"Job"})
            ),
            RegisteredStep(
                "drop-allocated-service-fields",
                drop_allocated_service_fields,
                frozenset({"Service"}),
            ),
        ]
    )


def upstream_pipeline() -> Pipeline:
    """Downstream object -> its upstream name, namespace and status form."""
    return Pipeline(
        [
            RegisteredStep("validate", validate_object),
            RegisteredStep("map-namespace", map_namespace_up),
            RegisteredStep("rename", rename_up, frozenset({"ConfigMap", "Secret"})),
            RegisteredStep("strip-cluster-label", strip_cluster_label),
            RegisteredStep("strip-server-metadata", strip_server_metadata),
            RegisteredStep("status", status_up),
        ]
    )
