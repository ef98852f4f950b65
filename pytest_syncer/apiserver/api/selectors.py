"""Label and field selectors with the grammar, semantics and error messages of Kubernetes.

Label selectors follow apimachinery's lexer and parser (``a=b``, ``a==b``, ``a!=b``,
``a in (b,c)``, ``a notin (b,c)``, ``a``, ``!a``, ``a>1``, ``a<1``); requirements are sorted by key
as the real parser sorts them, so ``str(parse(text))`` is the canonical form. Field selectors are
``field=value``, ``field==value``, ``field!=value`` joined by commas, with ``\\``, ``\\,`` and
``\\=`` escapes in values.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pytest_syncer.apiserver.api.names import label_value_errors, qualified_name_errors


class SelectorError(ValueError):
    """A selector that does not parse or names something the server cannot select on."""


class Operator(enum.StrEnum):
    EQUALS = "="
    DOUBLE_EQUALS = "=="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"
    GREATER_THAN = "gt"
    LESS_THAN = "lt"


_SET_OPERATORS = (Operator.IN, Operator.NOT_IN)
_EXACT_OPERATORS = (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.NOT_EQUALS)
_PRESENCE_OPERATORS = (Operator.EXISTS, Operator.DOES_NOT_EXIST)
_NUMERIC_OPERATORS = (Operator.GREATER_THAN, Operator.LESS_THAN)
_INTEGER = re.compile(r"[+-]?[0-9]+")
_OPERATOR_SYMBOLS = {Operator.GREATER_THAN: ">", Operator.LESS_THAN: "<"}


@dataclass(frozen=True)
class Requirement:
    """One term of a label selector; ``values`` is sorted and free of duplicates."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_requirement(self.key, self.operator, self.values)
        object.__setattr__(self, "values", tuple(sorted(set(self.values))))

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        match self.operator:
            case Operator.EQUALS | Operator.DOUBLE_EQUALS | Operator.IN:
                return present and labels[self.key] in self.values
            case Operator.NOT_EQUALS | Operator.NOT_IN:
                return not present or labels[self.key] not in self.values
            case Operator.EXISTS:
                return present
            case Operator.DOES_NOT_EXIST:
                return not present
        if not present or not _is_integer(labels[self.key]):
            return False
        have = int(labels[self.key])
        want = int(self.values[0])
        return have > want if self.operator is Operator.GREATER_THAN else have < want

    def __str__(self) -> str:
        if self.operator is Operator.EXISTS:
            return self.key
        if self.operator is Operator.DOES_NOT_EXIST:
            return f"!{self.key}"
        if self.operator in _SET_OPERATORS:
            return f"{self.key} {self.operator.value} ({','.join(self.values)})"
        symbol = _OPERATOR_SYMBOLS.get(self.operator, self.operator.value)
        return f"{self.key}{symbol}{self.values[0]}"


@dataclass(frozen=True)
class LabelSelector:
    """Requirements that must all hold; no requirements selects everything.

    ``selects_nothing`` is the other extreme, what Kubernetes makes of a nil ``LabelSelector``.
    """

    requirements: tuple[Requirement, ...] = ()
    selects_nothing: bool = False

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.selects_nothing:
            return False
        present = labels or {}
        return all(requirement.matches(present) for requirement in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements and not self.selects_nothing

    def index_terms(self) -> tuple[tuple[str, tuple[str, ...] | None], ...]:
        """Labels every selected object carries (a key with one of some values, or with any):
        what a store's label index can narrow a list by before the full match."""
        terms: list[tuple[str, tuple[str, ...] | None]] = []
        for requirement in self.requirements:
            if requirement.operator in (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.IN):
                terms.append((requirement.key, requirement.values))
            elif requirement.operator in (Operator.EXISTS, *_NUMERIC_OPERATORS):
                terms.append((requirement.key, None))
        return tuple(terms)

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)


def parse_label_selector(text: str) -> LabelSelector:
    """Parse a label selector as the API server's ``labelSelector`` parameter does."""
    requirements = _LabelParser(text).parse()
    return LabelSelector(tuple(sorted(requirements, key=lambda requirement: requirement.key)))


def label_selector_from_dict(selector: Mapping[str, Any] | None) -> LabelSelector:
    """Turn a metav1.LabelSelector into a selector.

    As in Kubernetes, ``{}`` (no matchLabels, no matchExpressions) selects everything and ``None``
    selects nothing; workload validation rejects the empty selector where the real server does.
    """
    if selector is None:
        return LabelSelector(selects_nothing=True)
    if not isinstance(selector, Mapping):
        raise SelectorError(f"a label selector must be an object, not {type(selector).__name__}")
    requirements = []
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, Mapping):
        raise SelectorError("matchLabels must be an object of strings")
    for key, value in match_labels.items():
        if not isinstance(value, str):
            raise SelectorError(f"matchLabels[{key}] must be a string")
        requirements.append(Requirement(key, Operator.EQUALS, (value,)))
    expressions = selector.get("matchExpressions") or []
    if not isinstance(expressions, list):
        raise SelectorError("matchExpressions must be a list")
    for expression in expressions:
        requirements.append(_requirement_from_expression(expression))
    return LabelSelector(tuple(sorted(requirements, key=lambda requirement: requirement.key)))


_EXPRESSION_OPERATORS = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
}


def _requirement_from_expression(expression: Any) -> Requirement:
    if not isinstance(expression, Mapping):
        raise SelectorError("each matchExpressions entry must be an object")
    key = expression.get("key")
    operator_name = expression.get("operator")
    values = expression.get("values") or []
    if not isinstance(key, str):
        raise SelectorError("matchExpressions entry needs a string key")
    operator = _EXPRESSION_OPERATORS.get(operator_name) if isinstance(operator_name, str) else None
    if operator is None:
        raise SelectorError(f"{json.dumps(operator_name)} is not a valid label selector operator")
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise SelectorError(f"values of matchExpressions entry {key!r} must be strings")
    return Requirement(key, operator, tuple(values))


def _check_requirement(key: str, operator: Operator, values: tuple[str, ...]) -> None:
    key_errors = qualified_name_errors(key)
    if key_errors:
        raise SelectorError(_invalid("<nil>", key, "; ".join(key_errors)))
    if operator in _SET_OPERATORS and not values:
        raise SelectorError(
            _invalid("values", values, "for 'in', 'notin' operators, values set can't be empty")
        )
    if operator in _EXACT_OPERATORS and len(values) != 1:
        raise SelectorError(
            _invalid("values", values, "exact-match compatibility requires one single value")
        )
    if operator in _PRESENCE_OPERATORS and values:
        raise SelectorError(
            _invalid("values", values, "values set must be empty for exists and does not exist")
        )
    if operator in _NUMERIC_OPERATORS:
        if len(values) != 1:
            raise SelectorError(
                _invalid(
                    "values", values, "for 'Gt', 'Lt' operators, exactly one value is required"
                )
            )
        if not _is_integer(values[0]):
            raise SelectorError(
                _invalid(
                    "values[0]", values[0], "for 'Gt', 'Lt' operators, the value must be an integer"
                )
            )
    for index, value in enumerate(values):
        value_errors = label_value_errors(value)
        if value_errors and operator not in _NUMERIC_OPERATORS:
            raise SelectorError(_invalid(f"values[{index}][{key}]", value, "; ".join(value_errors)))


def _is_integer(value: object) -> bool:
    """What Go's strconv.ParseInt accepts: an optional sign and decimal digits."""
    return isinstance(value, str) and _INTEGER.fullmatch(value) is not None


def _invalid(field: str, value: str | tuple[str, ...], detail: str) -> str:
    shown = json.dumps(value if isinstance(value, str) else list(value))
    return f"{field}: Invalid value: {shown}: {detail}"


class _Token(enum.Enum):
    IDENTIFIER = "identifier"
    END = "end of string"
    OPEN = "("
    CLOSE = ")"
    COMMA = ","
    NOT = "!"
    EQUALS = "="
    DOUBLE_EQUALS = "=="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"
    GREATER = ">"
    LESS = "<"


_SYMBOLS = {
    "(": _Token.OPEN,
    ")": _Token.CLOSE,
    ",": _Token.COMMA,
    "!": _Token.NOT,
    "=": _Token.EQUALS,
    "==": _Token.DOUBLE_EQUALS,
    "!=": _Token.NOT_EQUALS,
    ">": _Token.GREATER,
    "<": _Token.LESS,
}
_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")
_BINARY_OPERATORS = {
    _Token.IN: Operator.IN,
    _Token.NOT_IN: Operator.NOT_IN,
    _Token.EQUALS: Operator.EQUALS,
    _Token.DOUBLE_EQUALS: Operator.DOUBLE_EQUALS,
    _Token.NOT_EQUALS: Operator.NOT_EQUALS,
    _Token.GREATER: Operator.GREATER_THAN,
    _Token.LESS: Operator.LESS_THAN,
}


def _tokens(text: str) -> Iterator[tuple[_Token, str]]:
    position = 0
    while True:
        while position < len(text) and text[position] in _WHITESPACE:
            position += 1
        if position == len(text):
            yield _Token.END, ""
            return
        if text[position] in _SPECIAL:
            token: _Token | None = None
            literal = ""
            end = position
            while end < len(text) and text[end] in _SPECIAL:
                candidate = _SYMBOLS.get(text[position : end + 1])
                if candidate is None and token is not None:
                    break
                if candidate is not None:
                    token, literal = candidate, text[position : end + 1]
                end += 1
            if token is None:
                raise SelectorError(f"error expected: keyword found '{text[position:end]}'")
            position += len(literal)
            yield token, literal
            continue
        end = position
        while end < len(text) and text[end] not in _WHITESPACE and text[end] not in _SPECIAL:
            end += 1
        word = text[position:end]
        position = end
        keyword = {"in": _Token.IN, "notin": _Token.NOT_IN}.get(word, _Token.IDENTIFIER)
        yield keyword, word


class _LabelParser:
    """A recursive-descent parser over the token list, mirroring apimachinery's."""

    def __init__(self, text: str) -> None:
        self.items = list(_tokens(text))
        self.position = 0

    def _peek(self, values: bool = True) -> tuple[_Token, str]:
        return self._as_context(self.items[self.position], values)

    def _next(self, values: bool = True) -> tuple[_Token, str]:
        item = self._peek(values)
        if item[0] is not _Token.END:
            self.position += 1
        return item

    @staticmethod
    def _as_context(item: tuple[_Token, str], values: bool) -> tuple[_Token, str]:
        # Where a value or key is expected, the words in and notin are plain identifiers.
        if values and item[0] in (_Token.IN, _Token.NOT_IN):
            return _Token.IDENTIFIER, item[1]
        return item

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            token, literal = self._peek()
            if token is _Token.END:
                return requirements
            if token not in (_Token.IDENTIFIER, _Token.NOT):
                raise SelectorError(
                    f"found '{literal}', expected: !, identifier, or 'end of string'"
                )
            try:
                requirements.append(self._requirement())
            except SelectorError as error:
                raise SelectorError(f"unable to parse requirement: {error}") from None
            token, literal = self._next()
            if token is _Token.END:
                return requirements
            if token is not _Token.COMMA:
                raise SelectorError(f"found '{literal}', expected: ',' or 'end of string'")
            token, literal = self._peek()
            if token not in (_Token.IDENTIFIER, _Token.NOT):
                raise SelectorError(f"found '{literal}', expected: identifier after ','")

    def _requirement(self) -> Requirement:
        token, literal = self._next()
        negated = token is _Token.NOT
        if negated:
            token, literal = self._next()
        if token is not _Token.IDENTIFIER:
            raise SelectorError(f"found '{literal}', expected: identifier")
        key = literal
        if negated:
            return Requirement(key, Operator.DOES_NOT_EXIST)
        if self._peek()[0] in (_Token.END, _Token.COMMA):
            return Requirement(key, Operator.EXISTS)
        token, literal = self._next(values=False)
        operator_or_none = _BINARY_OPERATORS.get(token)
        if operator_or_none is None:
            raise SelectorError(f"found '{literal}', expected: in, notin, =, ==, !=, gt, lt")
        operator = operator_or_none
        if operator in _SET_OPERATORS:
            return Requirement(key, operator, self._value_set())
        return Requirement(key, operator, (self._exact_value(),))

    def _exact_value(self) -> str:
        token, literal = self._peek()
        if token in (_Token.END, _Token.COMMA):
            return ""
        self._next()
        if token is not _Token.IDENTIFIER:
            raise SelectorError(f"found '{literal}', expected: identifier")
        return literal

    def _value_set(self) -> tuple[str, ...]:
        token, literal = self._next()
        if token is not _Token.OPEN:
            raise SelectorError(f"found '{literal}', expected: '('")
        token, literal = self._peek()
        if token is _Token.CLOSE:
            self._next()
            return ("",)
        if token not in (_Token.IDENTIFIER, _Token.COMMA):
            raise SelectorError(f"found '{literal}', expected: ',', ')' or identifier")
        values = self._identifier_list()
        token, literal = self._next()
        if token is not _Token.CLOSE:
            raise SelectorError(f"found '{literal}', expected: ')'")
        return values

    def _identifier_list(self) -> tuple[str, ...]:
        values: list[str] = []
        while True:
            token, literal = self._next()
            if token is _Token.IDENTIFIER:
                values.append(literal)
                following, following_literal = self._peek()
                if following is _Token.CLOSE:
                    return tuple(values)
                if following is not _Token.COMMA:
                    raise SelectorError(f"found '{following_literal}', expected: ',' or ')'")
            elif token is _Token.COMMA:
                # An empty element, as in "(,a)", "(a,)" or "(a,,b)", is the empty value.
                if not values:
                    values.append("")
                following, _ = self._peek()
                if following is _Token.CLOSE:
                    values.append("")
                    return tuple(values)
                if following is _Token.COMMA:
                    self._next()
                    values.append("")
            else:
                raise SelectorError(f"found '{literal}', expected: ',', or identifier")


# Field selectors.

DEFAULT_FIELDS = ("metadata.name", "metadata.namespace")


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    negated: bool
    value: str

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return (field_value(obj, self.field) == self.value) != self.negated

    def __str__(self) -> str:
        return f"{self.field}{'!=' if self.negated else '='}{escape_field_value(self.value)}"


@dataclass(frozen=True)
class FieldSelector:
    """Terms that must all hold; no terms selects everything."""

    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return all(requirement.matches(obj) for requirement in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements

    def exact_value(self, field: str) -> str | None:
        """The value ``field`` must equal, if a term pins it (lets the store look up by name)."""
        for requirement in self.requirements:
            if requirement.field == field and not requirement.negated:
                return requirement.value
        return None

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)


def parse_field_selector(
    text: str,
    supported: Collection[str] = DEFAULT_FIELDS,
    aliases: Mapping[str, str] | None = None,
) -> FieldSelector:
    """Parse a ``fieldSelector``; a field outside ``supported`` is refused as the server does.
    ``aliases`` maps a served version's labels to the stored object's fields (the field label
    conversion of a converted version: ``regarding.name`` is a core Event's
    ``involvedObject.name``)."""
    requirements = []
    for part in _split_unescaped(text, ","):
        if not part:
            continue
        term = _split_term(part)
        if term is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        field, operator, raw_value = term
        value = unescape_field_value(raw_value)
        if field not in supported:
            raise SelectorError(f"field label not supported: {field}")
        field = (aliases or {}).get(field, field)
        requirements.append(FieldRequirement(field, operator == "!=", value))
    return FieldSelector(tuple(sorted(set(requirements), key=str)))


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """The value at a dotted path as the server's field sets hold it: a string, "" when absent.

    ``source`` is an Event's only derived field (``pkg/registry/core/event/strategy.go``
    ``ToSelectableFields``): ``source.component``, else ``reportingComponent``."""
    if path == "source":
        component = field_value(obj, "source.component")
        return component or field_value(obj, "reportingComponent")
    current: Any = obj
    for segment in path.split("."):
        if not isinstance(current, Mapping) or segment not in current:
            return ""
        current = current[segment]
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    if isinstance(current, str):
        return current
    return json.dumps(current) if isinstance(current, (dict, list)) else str(current)


def escape_field_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def unescape_field_value(value: str) -> str:
    out = []
    escaped = False
    for character in value:
        if escaped:
            if character not in "\\,=":
                raise SelectorError(
                    f"invalid field selector: invalid escape sequence: \\{character}"
                )
            out.append(character)
            escaped = False
        elif character == "\\":
            escaped = True
        elif character in ",=":
            raise SelectorError(f"invalid field selector: unescaped {character} in value: {value}")
        else:
            out.append(character)
    if escaped:
        raise SelectorError(
            f"invalid field selector: invalid escape sequence at the end of {value}"
        )
    return "".join(out)


def _split_unescaped(text: str, separator: str) -> list[str]:
    parts = []
    start = 0
    index = 0
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == separator:
            parts.append(text[start:index])
            start = index + 1
        index += 1
    parts.append(text[start:])
    return parts


def _split_term(term: str) -> tuple[str, str, str] | None:
    index = 0
    while index < len(term):
        if term[index] == "\\":
            index += 2
            continue
        for operator in ("!=", "==", "="):
            if term.startswith(operator, index):
                return term[:index], operator, term[index + len(operator) :]
        index += 1
    return None


def selector_text(selector: Any, invalid: str = "<invalid>") -> str:
    """A metav1.LabelSelector as selector text; empty when it selects everything."""
    if not isinstance(selector, Mapping):
        return ""
    try:
        return str(label_selector_from_dict(selector))
    except SelectorError:
        return invalid
