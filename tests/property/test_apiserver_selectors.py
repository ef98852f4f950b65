"""Selectors: the canonical form round-trips and matching agrees with a reference in this file."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.apiserver.api.selectors import parse_field_selector, parse_label_selector

ALNUM = "abcxyzABCXYZ0189"
names = st.one_of(
    st.sampled_from(ALNUM),
    st.builds(
        lambda a, m, b: a + m + b,
        st.sampled_from(ALNUM),
        st.text(alphabet=ALNUM + "-_.", max_size=6),
        st.sampled_from(ALNUM),
    ),
).filter(lambda name: name not in ("in", "notin"))
prefixes = st.sampled_from(["", "example.com/", "a.b-c/"])
keys = st.builds(lambda prefix, name: prefix + name, prefixes, names)
values = st.one_of(st.just(""), names)
small_keys = st.sampled_from(["app", "tier", "example.com/team", "n"])
small_values = st.sampled_from(["", "web", "db", "1", "7", "x.y"])

# A term spec is (key, operator word, values); the reference below evaluates it directly. Set
# values are unique: Kubernetes' grammar refuses "(,,)", so two empty values cannot be written.
term_specs = st.one_of(
    st.tuples(small_keys, st.sampled_from(["=", "==", "!="]), st.tuples(small_values)),
    st.tuples(
        small_keys,
        st.sampled_from(["in", "notin"]),
        st.lists(small_values, min_size=1, max_size=3, unique=True).map(tuple),
    ),
    st.tuples(small_keys, st.sampled_from(["exists", "!"]), st.just(())),
    st.tuples(small_keys, st.sampled_from([">", "<"]), st.tuples(st.sampled_from(["0", "5"]))),
)
label_sets = st.dictionaries(small_keys, small_values, max_size=4)
spaces = st.sampled_from(["", " ", "  ", "\t"])


def reference_matches(spec: tuple[str, str, tuple[str, ...]], labels: dict[str, str]) -> bool:
    key, operator, wanted = spec
    if operator in ("=", "==", "in"):
        return labels.get(key) in wanted
    if operator in ("!=", "notin"):
        return key not in labels or labels[key] not in wanted
    if operator == "exists":
        return key in labels
    if operator == "!":
        return key not in labels
    if key not in labels or not labels[key].lstrip("-").isdigit():
        return False
    have, limit = int(labels[key]), int(wanted[0])
    return have > limit if operator == ">" else have < limit


def render(spec: tuple[str, str, tuple[str, ...]], pad: str) -> str:
    key, operator, wanted = spec
    if operator == "exists":
        return key
    if operator == "!":
        return f"!{pad}{key}"
    if operator in ("in", "notin"):
        return f"{key} {operator}{pad}({pad}{(pad + ',' + pad).join(wanted)}{pad})"
    return f"{key}{pad}{operator}{pad}{wanted[0]}"


@given(st.lists(term_specs, max_size=4), label_sets, spaces)
def test_label_matching_agrees_with_the_reference(specs, labels, pad):
    text = (pad + "," + pad).join(render(spec, pad) for spec in specs)
    selector = parse_label_selector(pad + text + pad)
    assert selector.matches(labels) == all(reference_matches(spec, labels) for spec in specs)


@given(st.lists(st.tuples(keys, st.sampled_from(["=", "!=", "in", "!", "exists"]), values)))
def test_label_selector_round_trips_through_its_string(terms):
    parts = []
    for key, operator, value in terms:
        if operator == "in":
            parts.append(f"{key} in ({value},{value}x)")
        elif operator == "!":
            parts.append(f"!{key}")
        elif operator == "exists":
            parts.append(key)
        else:
            parts.append(f"{key}{operator}{value}")
    selector = parse_label_selector(",".join(parts))
    assert parse_label_selector(str(selector)) == selector
    assert str(parse_label_selector(str(selector))) == str(selector)


field_values = st.text(alphabet="ab,=\\ -", max_size=6)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["metadata.name", "metadata.namespace"]), st.booleans(), field_values
        ),
        max_size=3,
    ),
    st.fixed_dictionaries({"name": field_values, "namespace": field_values}),
)
def test_field_selector_round_trips_and_matches_like_the_reference(terms, metadata):
    def escape(value: str) -> str:
        return "".join("\\" + c if c in "\\,=" else c for c in value)

    text = ",".join(
        f"{field}{'!=' if negated else '=='}{escape(value)}" for field, negated, value in terms
    )
    selector = parse_field_selector(text)
    assert parse_field_selector(str(selector)) == selector
    expected = all(
        (metadata[field.split(".")[1]] == value) != negated for field, negated, value in terms
    )
    assert selector.matches({"metadata": metadata}) == expected
