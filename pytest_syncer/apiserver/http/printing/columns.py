"""Table columns and printers: what a row holds, and a custom resource's printer from its CRD.

A CRD's ``additionalPrinterColumns`` become columns after NAME, each cell read by its JSONPath,
as apiextensions-apiserver's table convertor (``pkg/registry/customresource/tableconvertor``)
does.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_syncer.apiserver.http.printing.formatting import since, value_at
from pytest_syncer.apiserver.http.printing.jsonpath import json_path


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "string"
    description: str = ""
    priority: int = 0
    format: str = ""

    def definition(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


Cells = list[Any]
RowPrinter = Callable[[Mapping[str, Any], datetime.datetime], Cells]

NAME = Column("Name", format="name", description="Name must be unique within a namespace.")
AGE = Column("Age", description="CreationTimestamp is when this object was created.")
CONTAINERS = Column(
    "Containers", priority=1, description="Names of each container in the template."
)
IMAGES = Column(
    "Images", priority=1, description="Images referenced by each container in the template."
)
SELECTOR = Column("Selector", priority=1, description="Label selector of the pods.")


CREATED_AT = Column("Created At", type="date", description="CreationTimestamp of the object.")
BINDING_COLUMNS = (
    NAME,
    Column("Role", description="RoleRef of the binding."),
    AGE,
    Column("Users", priority=1, description="Users in the binding"),
    Column("Groups", priority=1, description="Groups in the binding"),
    Column("ServiceAccounts", priority=1, description="ServiceAccounts in the binding"),
)


@dataclass(frozen=True)
class Printer:
    columns: tuple[Column, ...]
    row: RowPrinter


def printer_from_columns(printer_columns: Sequence[Mapping[str, Any]]) -> Printer:
    """A printer for a custom resource from its CRD's ``additionalPrinterColumns``."""
    columns = [NAME]
    paths = []
    for spec in printer_columns:
        columns.append(
            Column(
                str(spec.get("name", "")),
                type=str(spec.get("type", "string")),
                description=str(spec.get("description", "")),
                priority=int(spec.get("priority", 0)),
                format=str(spec.get("format", "")),
            )
        )
        paths.append((str(spec.get("jsonPath", "")), str(spec.get("type", "string"))))

    def row(obj: Mapping[str, Any], now: datetime.datetime) -> Cells:
        cells: Cells = [value_at(obj, "metadata.name", "")]
        for path, kind in paths:
            cells.append(_column_cell(json_path(obj, path), kind, now))
        return cells

    return Printer(tuple(columns), row)


def _column_cell(values: list[Any], kind: str, now: datetime.datetime) -> Any:
    if not values:
        return None
    if len(values) > 1:
        return ",".join(str(value) for value in values)
    value = values[0]
    if kind == "date" and isinstance(value, str):
        return since(value, now)
    return value
