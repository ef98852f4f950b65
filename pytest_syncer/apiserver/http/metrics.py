"""The request and list counters kube-apiserver exposes, at ``/metrics`` in Prometheus text.

``apiserver_request_total`` counts requests by verb (kube-apiserver's uppercase verbs: GET,
LIST, WATCH, POST, PUT, PATCH, APPLY, DELETE, DELETECOLLECTION), group, resource and
subresource; ``apiserver_storage_list_returned_objects_total`` and
``apiserver_storage_list_evaluated_objects_total`` count by resource the objects lists returned
and the objects they checked against their selectors. Tests and benchmarks read them to count
what one placement costs.
"""

from __future__ import annotations

import re
from collections import Counter

REQUESTS = "apiserver_request_total"
LIST_RETURNED = "apiserver_storage_list_returned_objects_total"
LIST_EVALUATED = "apiserver_storage_list_evaluated_objects_total"

_VERBS = {
    "get": "GET",
    "list": "LIST",
    "watch": "WATCH",
    "create": "POST",
    "update": "PUT",
    "patch": "PATCH",
    "delete": "DELETE",
    "deletecollection": "DELETECOLLECTION",
}
_SAMPLE = re.compile(r"^(\w+)\{(.*)\} (\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


class RequestMetrics:
    """Counters since the server started."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str, str, str]] = Counter()
        self.list_returned: Counter[str] = Counter()
        self.list_evaluated: Counter[str] = Counter()

    def request(self, verb: str, group: str, resource: str, subresource: str, apply: bool) -> None:
        shown = "APPLY" if apply else _VERBS.get(verb, verb.upper())
        self.requests[(shown, group, resource, subresource)] += 1

    def listed(self, resource: str, evaluated: int, returned: int) -> None:
        self.list_evaluated[resource] += evaluated
        self.list_returned[resource] += returned

    def render(self) -> str:
        lines = [f"# TYPE {REQUESTS} counter"]
        for (verb, group, resource, subresource), count in sorted(self.requests.items()):
            lines.append(
                f'{REQUESTS}{{group="{group}",resource="{resource}",'
                f'subresource="{subresource}",verb="{verb}"}} {count}'
            )
        for name, counts in (
            (LIST_RETURNED, self.list_returned),
            (LIST_EVALUATED, self.list_evaluated),
        ):
            lines.append(f"# TYPE {name} counter")
            lines.extend(
                f'{name}{{resource="{resource}"}} {n}' for resource, n in sorted(counts.items())
            )
        return "\n".join(lines) + "\n"


def parse(text: str) -> list[tuple[str, dict[str, str], float]]:
    """The samples of a ``/metrics`` page: (name, labels, value)."""
    samples = []
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match:
            labels = dict(_LABEL.findall(match.group(2)))
            samples.append((match.group(1), labels, float(match.group(3))))
    return samples


def total(text: str, name: str, **wanted: str) -> float:
    """The sum of ``name``'s samples whose labels include ``wanted``."""
    return sum(
        value
        for sample, labels, value in parse(text)
        if sample == name and all(labels.get(key) == value_ for key, value_ in wanted.items())
    )
