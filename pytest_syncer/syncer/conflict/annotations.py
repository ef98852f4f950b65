"""Reading an upstream object's choice of conflict strategy from its annotations.

`workload.kcp.io/conflict-strategy` overrides the syncer's `--conflict-strategy` for one object;
`workload.kcp.io/retain-fields` lists the dotted paths `retain` leaves to the downstream. Both
live in the syncer's own annotation domain, so the transform strips them on the way down. A
value the syncer cannot read is a typed error (a `TransformError`, like every other object the
syncer refuses): the engine reports the object as Failed with the message and goes on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pytest_syncer.contract.errors import TransformError
from pytest_syncer.contract.naming import CLUSTER_LABEL
from pytest_syncer.syncer.conflict.fieldpaths import (
    FieldPath,
    InvalidFieldPathError,
    format_field_path,
    parse_field_path,
)
from pytest_syncer.syncer.interfaces import ConflictStrategy

CONFLICT_STRATEGY_ANNOTATION = "workload.kcp.io/conflict-strategy"
RETAIN_FIELDS_ANNOTATION = "workload.kcp.io/retain-fields"

_IDENTITY_FIELDS = frozenset({"apiVersion", "kind"})
_RETAINABLE_METADATA = frozenset({"labels", "annotations"})


class ConflictAnnotationError(TransformError):
    """A conflict annotation whose value the syncer cannot act on."""


class UnknownConflictStrategyError(ConflictAnnotationError):
    """`workload.kcp.io/conflict-strategy` names no strategy."""


class InvalidRetainFieldsError(ConflictAnnotationError):
    """`workload.kcp.io/retain-fields` holds a path that is malformed or not retainable."""


def _annotation_field(name: str) -> str:
    return f"metadata.annotations[{name}]"


def parse_strategy(text: str) -> ConflictStrategy:
    """A strategy by its name (surrounding blanks ignored); a typed error names the choices."""
    try:
        return ConflictStrategy(text.strip())
    except ValueError:
        choices = ", ".join(strategy.value for strategy in ConflictStrategy)
        raise UnknownConflictStrategyError(
            _annotation_field(CONFLICT_STRATEGY_ANNOTATION),
            f"unknown conflict strategy {text!r}; expected one of {choices}",
        ) from None


def _check_retainable(path: FieldPath, text: str) -> None:
    """Identity and server metadata cannot be retained; the marker label never is."""
    field = _annotation_field(RETAIN_FIELDS_ANNOTATION)
    head = path[0]
    if head in _IDENTITY_FIELDS or head == "status":
        raise InvalidRetainFieldsError(field, f"{text!r} is not a field the syncer writes")
    if head == "metadata":
        if len(path) < 3 or path[1] not in _RETAINABLE_METADATA:
            raise InvalidRetainFieldsError(
                field, f"{text!r}: only single labels and annotations of metadata can be retained"
            )
        if path[1] == "labels" and path[2] == CLUSTER_LABEL:
            raise InvalidRetainFieldsError(
                field, f"{text!r}: the label {CLUSTER_LABEL} marks the copy as the syncer's"
            )


def parse_retain_path(text: str) -> FieldPath:
    """One retained path, checked: a typed error names it when it is malformed or not allowed."""
    try:
        path = parse_field_path(text.strip())
    except InvalidFieldPathError as error:
        raise InvalidRetainFieldsError(
            _annotation_field(RETAIN_FIELDS_ANNOTATION), str(error)
        ) from None
    _check_retainable(path, text.strip())
    return path


def parse_retain_paths(texts: Iterable[str]) -> tuple[FieldPath, ...]:
    """Dotted paths -> parsed paths, sorted and without repeats; blank entries are skipped."""
    return tuple(sorted({parse_retain_path(text) for text in texts if text.strip()}))


def parse_retain_fields(text: str) -> tuple[FieldPath, ...]:
    """The annotation's comma-separated list -> parsed paths, sorted and without repeats."""
    return parse_retain_paths(text.split(","))


def strategy_for(
    upstream_obj: Mapping[str, Any], default: ConflictStrategy
) -> tuple[ConflictStrategy, tuple[str, ...]]:
    """The object's strategy (its annotation, else `default`) and, under `retain`, its fields.

    The fields come back normalised (`format_field_path`, sorted, no repeats) and are `()` for
    every other strategy (whose objects are not refused over a retain list they do not use), so
    the engine hands the pair to `resolver_for` unchanged. An empty annotation is as good as none.
    """
    metadata = upstream_obj.get("metadata")
    notes = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    notes = notes if isinstance(notes, Mapping) else {}
    chosen = notes.get(CONFLICT_STRATEGY_ANNOTATION)
    if not isinstance(chosen, str) or not chosen.strip():
        strategy = default
    else:
        strategy = parse_strategy(chosen)
    if strategy is not ConflictStrategy.RETAIN:
        return strategy, ()
    retain_text = notes.get(RETAIN_FIELDS_ANNOTATION)
    paths = parse_retain_fields(retain_text if isinstance(retain_text, str) else "")
    return strategy, tuple(format_field_path(path) for path in paths)
