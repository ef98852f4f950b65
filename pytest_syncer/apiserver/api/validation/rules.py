"""The rule machinery: a rule is one function ``(obj, context) -> list[FieldError]``.

A new rule is a function in its API group's module and a line in ``kinds.RULES``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pytest_syncer.apiserver.api.validation.field_errors import FieldError, invalid


@dataclass(frozen=True)
class RuleContext:
    kind: str
    namespaced: bool


Rule = Callable[[Mapping[str, Any], RuleContext], list[FieldError]]


def mapping_of(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def list_of(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def messages_to_errors(field: str, value: Any, messages: Iterable[str]) -> list[FieldError]:
    return [invalid(field, value, message) for message in messages]
