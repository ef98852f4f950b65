"""A ``meta.k8s.io/v1`` Table of objects, with the object or its metadata in each row.

``kubectl get`` asks for ``application/json;as=Table;v=v1;g=meta.k8s.io`` and prints the cells
it gets (``k8s.io/apimachinery/pkg/apis/meta/v1`` Table, TableRow).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from pytest_syncer.apiserver.http.printing.catalog import DEFAULT_PRINTER, PRINTERS
from pytest_syncer.apiserver.http.printing.columns import printer_from_columns
from pytest_syncer.apiserver.http.printing.formatting import map_at

INCLUDE_OBJECT_CHOICES = ("None", "Metadata", "Object")


def partial_object_metadata(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(map_at(obj, "metadata")),
    }


def to_table(
    kind: str,
    objects: Sequence[Mapping[str, Any]],
    *,
    include_object: str = "Metadata",
    now: datetime.datetime | None = None,
    printer_columns: Sequence[Mapping[str, Any]] | None = None,
    list_metadata: Mapping[str, Any] | None = None,
    include_columns: bool = True,
) -> dict[str, Any]:
    """Render ``objects`` of ``kind`` as a ``meta.k8s.io/v1`` Table.

    ``include_object`` is the request's ``includeObject`` (None, Metadata or Object);
    ``include_columns=False`` leaves out the column definitions, as the server does for
    ``noHeaders`` and after the first event of a watch.
    """
    if include_object not in INCLUDE_OBJECT_CHOICES:
        raise ValueError(
            f"includeObject must be one of {', '.join(INCLUDE_OBJECT_CHOICES)}, "
            f"not {include_object!r}"
        )
    moment = now or datetime.datetime.now(datetime.UTC)
    printer = (
        printer_from_columns(printer_columns)
        if printer_columns
        else PRINTERS.get(kind, DEFAULT_PRINTER)
    )
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": printer.row(obj, moment)}
        if include_object == "Metadata":
            row["object"] = partial_object_metadata(obj)
        elif include_object == "Object":
            row["object"] = dict(obj)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(list_metadata or {}),
        "columnDefinitions": (
            [column.definition() for column in printer.columns] if include_columns else []
        ),
        "rows": rows,
    }
