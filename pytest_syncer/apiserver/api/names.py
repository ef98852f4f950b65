"""Kubernetes naming rules (DNS-1123/1035 names, qualified names, label values, config keys).

Each check returns the real server's messages, or nothing when the value is fine. Selectors and
object validation both use them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
QUALIFIED_NAME_MAX = 63
LABEL_VALUE_MAX = 63

_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = _DNS1123_LABEL + r"(\." + _DNS1123_LABEL + r")*"
_QUALIFIED_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"

_DNS1123_LABEL_RE = re.compile(_DNS1123_LABEL)
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN)
_QUALIFIED_NAME_RE = re.compile(_QUALIFIED_NAME)
_LABEL_VALUE_RE = re.compile(_LABEL_VALUE)

DNS1123_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    f"regex used for validation is '{_DNS1123_LABEL}')"
)
DNS1123_SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    f"for validation is '{_DNS1123_SUBDOMAIN}')"
)
QUALIFIED_NAME_MESSAGE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    f"validation is '{_QUALIFIED_NAME}')"
)
QUALIFIED_NAME_SHAPE_MESSAGE = (
    "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    f"used for validation is '{_QUALIFIED_NAME}') with an optional DNS subdomain prefix and '/' "
    "(e.g. 'example.com/MyName')"
)
LABEL_VALUE_MESSAGE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    f"'my_value',  or '12345', regex used for validation is '{_LABEL_VALUE}')"
)


def max_length_message(limit: int) -> str:
    return f"must be no more than {limit} characters"


#: How many valid values each check remembers; past it, it starts over.
VALID_MEMORY = 4096


class _RememberingValid:
    """A name check that answers a value it found valid before from a set: every write checks
    the same label keys, values and names again (ten checks a request), and a regex costs more
    than a lookup. Only valid values are kept, so messages are always computed afresh."""

    def __init__(self, check: Callable[[str], list[str]]) -> None:
        self.check = check
        self.valid: set[str] = set()
        functools.update_wrapper(self, check)

    def __call__(self, value: str) -> list[str]:
        if value in self.valid:
            return []
        errors = self.check(value)
        if not errors:
            if len(self.valid) >= VALID_MEMORY:
                self.valid.clear()
            self.valid.add(value)
        return errors


@_RememberingValid
def dns1123_label_errors(value: str) -> list[str]:
    """Why ``value`` is not a DNS-1123 label (names of namespaces, services), or nothing."""
    errors = []
    if len(value) > DNS1123_LABEL_MAX:
        errors.append(max_length_message(DNS1123_LABEL_MAX))
    if not _DNS1123_LABEL_RE.fullmatch(value):
        errors.append(DNS1123_LABEL_MESSAGE)
    return errors


@_RememberingValid
def dns1123_subdomain_errors(value: str) -> list[str]:
    """Why ``value`` is not a DNS-1123 subdomain (names of most objects), or nothing."""
    errors = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        errors.append(max_length_message(DNS1123_SUBDOMAIN_MAX))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errors.append(DNS1123_SUBDOMAIN_MESSAGE)
    return errors


def path_segment_name_errors(value: str) -> list[str]:
    """Why ``value`` cannot be a path segment (names of RBAC objects, such as the ClusterRole
    ``system:node``), or nothing."""
    errors = [f"may not be '{value}'" for bad in (".", "..") if value == bad]
    return errors + [f"may not contain '{bad}'" for bad in ("/", "%") if bad in value]


@_RememberingValid
def qualified_name_errors(value: str) -> list[str]:
    """Why ``value`` is not a qualified name (label and annotation keys), or nothing."""
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
        errors: list[str] = []
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errors = ["prefix part must be non-empty"]
        else:
            errors = [f"prefix part {message}" for message in dns1123_subdomain_errors(prefix)]
    else:
        return [QUALIFIED_NAME_SHAPE_MESSAGE]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > QUALIFIED_NAME_MAX:
        errors.append(f"name part {max_length_message(QUALIFIED_NAME_MAX)}")
    if name and not _QUALIFIED_NAME_RE.fullmatch(name):
        errors.append(QUALIFIED_NAME_MESSAGE)
    return errors


@_RememberingValid
def label_value_errors(value: str) -> list[str]:
    """Why ``value`` is not a label value, or nothing."""
    errors = []
    if len(value) > LABEL_VALUE_MAX:
        errors.append(max_length_message(LABEL_VALUE_MAX))
    if not _LABEL_VALUE_RE.fullmatch(value):
        errors.append(LABEL_VALUE_MESSAGE)
    return errors


DNS1035_LABEL_MESSAGE = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
_DNS1035_LABEL_RE = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
CONFIG_KEY_MESSAGE = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
)
_CONFIG_KEY_RE = re.compile(r"[-._a-zA-Z0-9]+")


def dns1035_label_errors(value: str) -> list[str]:
    """Why ``value`` is not a DNS-1035 label (Service names: they become DNS names), or nothing."""
    errors = []
    if len(value) > DNS1123_LABEL_MAX:
        errors.append(max_length_message(DNS1123_LABEL_MAX))
    if not _DNS1035_LABEL_RE.fullmatch(value):
        errors.append(DNS1035_LABEL_MESSAGE)
    return errors


@_RememberingValid
def config_key_errors(value: str) -> list[str]:
    """Why ``value`` is not a ConfigMap or Secret key, or nothing."""
    errors = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        errors.append(max_length_message(DNS1123_SUBDOMAIN_MAX))
    if not _CONFIG_KEY_RE.fullmatch(value):
        errors.append(CONFIG_KEY_MESSAGE)
    if value == ".":
        errors.append("must not be '.'")
    elif value == "..":
        errors.append("must not be '..'")
    elif value.startswith(".."):
        errors.append("must not start with '..'")
    return errors


_IANA_SVC_NAME_RE = re.compile(r"[-a-z0-9]+")
_IANA_HAS_LETTER_RE = re.compile(r"[a-z]")


def iana_service_name_errors(value: str) -> list[str]:
    """Why ``value`` is not a named port (IANA service name), or nothing."""
    errors = []
    if len(value) > 15:
        errors.append(max_length_message(15))
    if not _IANA_SVC_NAME_RE.fullmatch(value):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if "--" in value:
        errors.append("must not contain consecutive hyphens")
    if not _IANA_HAS_LETTER_RE.search(value):
        errors.append("must contain at least one letter (a-z)")
    if value.startswith("-") or value.endswith("-"):
        errors.append("must not begin or end with a hyphen")
    return errors
