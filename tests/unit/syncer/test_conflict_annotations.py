"""Reading the conflict annotations, and the dotted paths they hold."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_syncer.contract.errors import TransformError
from pytest_syncer.syncer.conflict import (
    CONFLICT_STRATEGY_ANNOTATION,
    RETAIN_FIELDS_ANNOTATION,
    InvalidRetainFieldsError,
    UnknownConflictStrategyError,
    strategy_for,
)
from pytest_syncer.syncer.conflict.fieldpaths import (
    MISSING,
    InvalidFieldPathError,
    format_field_path,
    get_field,
    parse_field_path,
    with_field,
)
from pytest_syncer.syncer.interfaces import ConflictStrategy

DEFAULT = ConflictStrategy.UPSTREAM_WINS


def annotated(**notes: str) -> dict[str, Any]:
    return {"metadata": {"name": "x", "annotations": notes}}


def with_notes(strategy: str | None = None, retain: str | None = None) -> dict[str, Any]:
    notes = {}
    if strategy is not None:
        notes[CONFLICT_STRATEGY_ANNOTATION] = strategy
    if retain is not None:
        notes[RETAIN_FIELDS_ANNOTATION] = retain
    return {"metadata": {"name": "x", "annotations": notes}}


@pytest.mark.parametrize("obj", [{}, {"metadata": {}}, with_notes(), with_notes(" ")])
def test_no_annotation_means_the_default(obj: dict[str, Any]) -> None:
    assert strategy_for(obj, ConflictStrategy.ABORT) == (ConflictStrategy.ABORT, ())


@pytest.mark.parametrize("strategy", [strategy.value for strategy in ConflictStrategy])
def test_each_strategy_is_read_from_its_annotation(strategy: str) -> None:
    chosen, retained = strategy_for(with_notes(f" {strategy} "), DEFAULT)
    assert chosen is ConflictStrategy(strategy)
    assert retained == ()


def test_retain_fields_are_normalised() -> None:
    obj = with_notes("retain", "spec.replicas, spec.template.metadata.annotations,,spec.replicas")
    assert strategy_for(obj, DEFAULT) == (
        ConflictStrategy.RETAIN,
        ("spec.replicas", "spec.template.metadata.annotations"),
    )
    obj = with_notes("retain", "metadata.labels[app.kubernetes.io/version]")
    assert strategy_for(obj, DEFAULT)[1] == ("metadata.labels[app.kubernetes.io/version]",)


def test_retain_fields_are_ignored_by_other_strategies_even_when_malformed() -> None:
    assert strategy_for(with_notes("abort", "spec..x"), DEFAULT) == (ConflictStrategy.ABORT, ())
    assert strategy_for(with_notes(None, "spec.replicas"), ConflictStrategy.RETAIN) == (
        ConflictStrategy.RETAIN,
        ("spec.replicas",),
    )


def test_an_unknown_strategy_is_a_transform_error_naming_the_annotation() -> None:
    with pytest.raises(UnknownConflictStrategyError) as caught:
        strategy_for(with_notes("Retain"), DEFAULT)
    assert isinstance(caught.value, TransformError)
    assert caught.value.field == f"metadata.annotations[{CONFLICT_STRATEGY_ANNOTATION}]"
    assert "unknown conflict strategy 'Retain'" in str(caught.value)
    assert "upstream-wins, retain, overwrite, abort" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("spec..replicas", "not a dotted field path"),
        ("metadata.name", "only single labels and annotations"),
        ("metadata.labels", "only single labels and annotations"),
        ("apiVersion", "not a field the syncer writes"),
        ("status", "not a field the syncer writes"),
    ],
)
def test_bad_retain_fields_name_the_path(text: str, message: str) -> None:
    with pytest.raises(InvalidRetainFieldsError) as caught:
        strategy_for(with_notes("retain", text), DEFAULT)
    assert caught.value.field == f"metadata.annotations[{RETAIN_FIELDS_ANNOTATION}]"
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("spec", ("spec",)),
        ("spec.template.metadata.annotations", ("spec", "template", "metadata", "annotations")),
        ("metadata.labels[a.io/b]", ("metadata", "labels", "a.io/b")),
        ("[a.b].c", ("a.b", "c")),
    ],
)
def test_paths_parse_and_format_back(text: str, path: tuple[str, ...]) -> None:
    assert parse_field_path(text) == path
    assert format_field_path(path) == text


@pytest.mark.parametrize("text", ["", ".spec", "spec.", "spec..x", "a[b]c", "a b", "a[]", "a[b"])
def test_malformed_paths_are_refused(text: str) -> None:
    with pytest.raises(InvalidFieldPathError):
        parse_field_path(text)


def test_get_and_with_field_walk_mappings_only_and_copy() -> None:
    obj = {"spec": {"replicas": 2, "list": [1]}}
    assert get_field(obj, ("spec", "replicas")) == 2
    assert get_field(obj, ("spec", "list", "0")) is MISSING
    assert get_field(obj, ("spec", "nothing")) is MISSING
    changed = with_field(obj, ("spec", "template", "x"), {"a": 1})
    assert changed == {"spec": {"replicas": 2, "list": [1], "template": {"x": {"a": 1}}}}
    assert obj == {"spec": {"replicas": 2, "list": [1]}}
    assert with_field(obj, ("spec", "replicas", "x"), 1)["spec"]["replicas"] == {"x": 1}
