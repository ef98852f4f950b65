"""Tables: ages truncate the real duration; every kind prints a full row for any object."""

from __future__ import annotations

import datetime
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_syncer.apiserver.http.printing.catalog import PRINTERS
from pytest_syncer.apiserver.http.printing.formatting import human_duration
from pytest_syncer.apiserver.http.printing.table import to_table

UNITS = {"y": 365 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}


@given(st.integers(min_value=0, max_value=20 * 365 * 86400))
def test_age_is_the_duration_truncated_to_its_smallest_unit(seconds):
    text = human_duration(seconds)
    parts = re.fullmatch(r"(?:(\d+)([ydhms]))(?:(\d+)([ydhms]))?", text)
    assert parts is not None, text
    pairs = [(int(parts.group(1)), parts.group(2))]
    if parts.group(3):
        pairs.append((int(parts.group(3)), parts.group(4)))
    shown = sum(amount * UNITS[unit] for amount, unit in pairs)
    granularity = UNITS[pairs[-1][1]]
    assert shown <= seconds < shown + granularity


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**9))
def test_age_never_goes_down_as_time_passes(first, second):
    earlier, later = sorted((first, second))
    assert _seconds(human_duration(earlier)) <= _seconds(human_duration(later))


def _seconds(text: str) -> int:
    return sum(int(amount) * UNITS[unit] for amount, unit in re.findall(r"(\d+)([ydhms])", text))


FIELD_NAMES = st.sampled_from(
    [
        "name",
        "status",
        "type",
        "ports",
        "port",
        "state",
        "waiting",
        "reason",
        "ready",
        "ip",
        "addresses",
        "ingress",
        "conditions",
        "containers",
        "kind",
        "host",
        "spec",
        "count",
    ]
)
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=4))
json_value = st.recursive(
    json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(
            st.sampled_from(["name", "status", "spec", "type", "ports"]), children, max_size=3
        ),
    ),
    max_leaves=10,
)
objects = st.fixed_dictionaries(
    {"metadata": st.fixed_dictionaries({"name": st.text(min_size=1, max_size=5)})},
    optional={
        "subsets": st.lists(json_value, max_size=2),
        "involvedObject": json_value,
        "subjects": st.lists(json_value, max_size=2),
        "data": json_value,
        "spec": st.dictionaries(
            st.sampled_from(
                ["replicas", "containers", "ports", "selector", "type", "template", "rules"]
            ),
            json_value,
            max_size=4,
        ),
        "status": st.dictionaries(
            st.sampled_from(
                ["phase", "conditions", "containerStatuses", "replicas", "loadBalancer"]
            ),
            json_value,
            max_size=4,
        ),
    },
)


@settings(max_examples=200)
@given(st.sampled_from([*PRINTERS, "Widget"]), st.lists(objects, max_size=3))
def test_every_kind_prints_one_full_row_per_object(kind, items):
    result = to_table(kind, items, now=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    assert len(result["rows"]) == len(items)
    for row, item in zip(result["rows"], items, strict=True):
        assert len(row["cells"]) == len(result["columnDefinitions"])
        assert row["object"]["metadata"] == item["metadata"]
