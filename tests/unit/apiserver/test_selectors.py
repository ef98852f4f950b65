"""Label and field selectors: grammar, semantics and the real server's error messages."""

from __future__ import annotations

import pytest

from pytest_syncer.apiserver.api.selectors import (
    FieldSelector,
    LabelSelector,
    Operator,
    SelectorError,
    field_value,
    label_selector_from_dict,
    parse_field_selector,
    parse_label_selector,
)

LABELS = {"app": "web", "tier": "front", "version": "3", "example.com/team": "a"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app=db", False),
        ("app!=db", True),
        ("app!=web", False),
        ("missing!=x", True),
        ("app in (web,db)", True),
        ("app in (db)", False),
        ("missing in (db)", False),
        ("app notin (db,cache)", True),
        ("app notin (web)", False),
        ("missing notin (web)", True),
        ("app", True),
        ("missing", False),
        ("!missing", True),
        ("!app", False),
        ("version>2", True),
        ("version>3", False),
        ("version<4", True),
        ("tier>1", False),
        ("missing<10", False),
        ("example.com/team=a", True),
        ("app=web,tier=front", True),
        ("app=web,tier=back", False),
        ("missing=", False),
        ("app in (web, db) , tier notin ( back ) ,\t!missing", True),
    ],
)
def test_label_selector_matches(text, expected):
    assert parse_label_selector(text).matches(LABELS) is expected


def test_empty_value_means_a_present_empty_label():
    selector = parse_label_selector("flag=")
    assert selector.matches({"flag": ""})
    assert not selector.matches({})
    assert parse_label_selector("k in ()").matches({"k": ""})


def test_keywords_are_plain_values_where_a_value_is_expected():
    assert parse_label_selector("mode=in").matches({"mode": "in"})
    assert parse_label_selector("mode in (notin,in)").matches({"mode": "notin"})


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        (" b = 1 , a ", "a,b=1"),
        ("x in (c, a, b, a)", "x in (a,b,c)"),
        ("x notin (a,)", "x notin (,a)"),
        ("!z,y==2,w>5,v<1", "v<1,w>5,y==2,!z"),
    ],
)
def test_canonical_form_sorts_like_kubernetes(text, canonical):
    assert str(parse_label_selector(text)) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("a=b c", "found 'c', expected: ',' or 'end of string'"),
        ("a,,b", "found ',', expected: identifier after ','"),
        (",a", "found ',', expected: !, identifier, or 'end of string'"),
        ("a in b", "found 'b', expected: '('"),
        ("a in (b", "found '', expected: ',' or ')'"),
        ("a>b", "for 'Gt', 'Lt' operators, the value must be an integer"),
        ("a=b=c", "found '=', expected: ',' or 'end of string'"),
        ("!a=b", "found '=', expected: ',' or 'end of string'"),
        ("a/b/c=d", '<nil>: Invalid value: "a/b/c": a qualified name must consist'),
        ("-a=b", '<nil>: Invalid value: "-a": name part must consist of alphanumeric'),
        ("Bad_Prefix/a=b", "prefix part a lowercase RFC 1123 subdomain must consist"),
        ("a=-b", 'values[0][a]: Invalid value: "-b": a valid label must be an empty string'),
        (f"a={'x' * 64}", "must be no more than 63 characters"),
        (f"{'k' * 64}", "name part must be no more than 63 characters"),
    ],
)
def test_invalid_label_selectors_say_why(text, message):
    with pytest.raises(SelectorError) as raised:
        parse_label_selector(text)
    assert message in str(raised.value)


def test_selector_from_dict_combines_labels_and_expressions():
    selector = label_selector_from_dict(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["front", "edge"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "version", "operator": "Exists"},
                {"key": "zone", "operator": "NotIn", "values": ["b"]},
            ],
        }
    )
    assert selector.matches(LABELS)
    assert not selector.matches({**LABELS, "canary": "yes"})
    assert not selector.matches({**LABELS, "zone": "b"})
    assert not selector.matches({"app": "web", "tier": "front"})
    assert str(selector) == "app=web,!canary,tier in (edge,front),version,zone notin (b)"


def test_empty_dict_selects_everything_and_none_selects_nothing():
    everything = label_selector_from_dict({})
    assert everything.empty
    assert everything.matches({})
    assert everything.matches(LABELS)
    assert label_selector_from_dict({"matchLabels": {}, "matchExpressions": []}).empty
    nothing = label_selector_from_dict(None)
    assert not nothing.empty
    assert not nothing.matches({})
    assert not nothing.matches(LABELS)


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}, '"Gt" is not'),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}, "can't be empty"),
        ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}, "empty"),
        ({"matchLabels": {"a": 1}}, "matchLabels[a] must be a string"),
        ({"matchLabels": {"a b": "c"}}, 'Invalid value: "a b"'),
        ({"matchExpressions": "a"}, "matchExpressions must be a list"),
        ({"matchExpressions": [{"operator": "Exists"}]}, "needs a string key"),
    ],
)
def test_bad_selector_dicts_are_refused(selector, message):
    with pytest.raises(SelectorError) as raised:
        label_selector_from_dict(selector)
    assert message in str(raised.value)


def test_requirement_values_are_sorted_and_unique():
    selector = parse_label_selector("a in (z,y,z)")
    assert selector.requirements[0].operator is Operator.IN
    assert selector.requirements[0].values == ("y", "z")


POD = {
    "metadata": {"name": "web-1", "namespace": "prod"},
    "spec": {"nodeName": "n1", "hostNetwork": True, "priority": 5},
    "status": {"phase": "Running"},
}
POD_FIELDS = (
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.hostNetwork",
    "status.phase",
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", True),
        ("metadata.name=web-1", True),
        ("metadata.name==web-1", True),
        ("metadata.name!=web-1", False),
        ("metadata.name=web-2", False),
        ("metadata.namespace=prod,metadata.name=web-1", True),
        ("metadata.namespace=prod,metadata.name=web-2", False),
        ("spec.nodeName=", False),
        ("spec.hostNetwork=true", True),
        ("status.phase!=Pending", True),
        ("metadata.name=web-1,", True),
    ],
)
def test_field_selector_matches(text, expected):
    assert parse_field_selector(text, POD_FIELDS).matches(POD) is expected


def test_absent_fields_read_as_empty():
    selector = parse_field_selector("spec.nodeName=", POD_FIELDS)
    assert selector.matches({"metadata": {"name": "x"}})
    assert field_value({"a": {"b": None}}, "a.b") == ""
    assert field_value({"a": 5}, "a.b") == ""
    assert field_value(POD, "spec.priority") == "5"


def test_escaped_values_round_trip():
    selector = parse_field_selector(r"metadata.name=a\,b\=c\\d")
    assert selector.matches({"metadata": {"name": "a,b=c\\d"}})
    assert str(selector) == r"metadata.name=a\,b\=c\\d"
    assert selector.exact_value("metadata.name") == "a,b=c\\d"
    assert selector.exact_value("metadata.namespace") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("spec.foo=bar", "field label not supported: spec.foo"),
        ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
        ("metadata.name=a=b", "unescaped = in value"),
        (r"metadata.name=a\x", r"invalid escape sequence: \x"),
        ("metadata.name = a", "field label not supported: metadata.name "),
    ],
)
def test_invalid_field_selectors_say_why(text, message):
    with pytest.raises(SelectorError) as raised:
        parse_field_selector(text)
    assert message in str(raised.value)


def test_selectors_are_value_objects():
    assert parse_label_selector("a=b,c") == parse_label_selector("c , a=b")
    assert parse_field_selector("metadata.name=x") == FieldSelector(
        parse_field_selector("metadata.name==x").requirements
    )
    assert isinstance(parse_label_selector(""), LabelSelector)
    assert parse_label_selector("").empty
    assert parse_field_selector("").empty


@pytest.mark.parametrize("value", ["5_0", " 5", "5.0", "five", ""])
def test_numeric_operators_take_only_plain_integers(value):
    assert not parse_label_selector("n>1").matches({"n": value})
    with pytest.raises(SelectorError, match="must be an integer"):
        parse_label_selector(f"n>{value}x")
    assert parse_label_selector("n<-3").matches({"n": "-4"})


def test_empty_set_elements_follow_the_kubernetes_grammar():
    assert parse_label_selector("a in (,b)").requirements[0].values == ("", "b")
    assert parse_label_selector("a in (b,,c)").requirements[0].values == ("", "b", "c")
    with pytest.raises(SelectorError, match=r"found '\)', expected: ',', or identifier"):
        parse_label_selector("a in (,,)")
