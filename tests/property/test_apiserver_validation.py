"""Validation: valid objects pass; each corruption yields exactly one error at its field."""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.apiserver.api.names import (
    dns1123_label_errors,
    dns1123_subdomain_errors,
    label_value_errors,
    qualified_name_errors,
)
from pytest_syncer.apiserver.api.validation.kinds import validate_object

LOWER = "abcdefghijklmnopqrstuvwxyz"
DIGITS = "0123456789"
ALNUM = LOWER + LOWER.upper() + DIGITS


def bounded(first: str, middle: str, last: str, size: int) -> st.SearchStrategy[str]:
    """One character of ``first``, or it, up to ``size`` of ``middle``, and one of ``last``."""
    return st.one_of(
        st.sampled_from(first),
        st.builds(
            lambda a, m, b: a + m + b,
            st.sampled_from(first),
            st.text(alphabet=middle, max_size=size),
            st.sampled_from(last),
        ),
    )


dns_labels = bounded(LOWER, LOWER + DIGITS + "-", LOWER + DIGITS, 20)
subdomains = st.lists(dns_labels, min_size=1, max_size=3).map(".".join)
label_names = bounded(ALNUM, ALNUM + "-_.", ALNUM, 20)
label_keys = st.one_of(label_names, st.builds(lambda p, n: f"{p}/{n}", subdomains, label_names))
label_values = st.one_of(st.just(""), label_names)
labels = st.dictionaries(label_keys, label_values, max_size=4)
config_keys = bounded(ALNUM + "-_", ALNUM + "-_.", ALNUM + "-_.", 10)
words = st.text(alphabet=LOWER, min_size=1, max_size=4)

bad_names = st.one_of(
    st.builds(lambda w: w.capitalize(), words),
    st.builds(lambda w: f"-{w}", words),
    st.builds(lambda a, b: f"{a}_{b}", words, words),
    st.just("a" * 254),
)
bad_label_keys = st.one_of(
    st.builds(lambda a, b: f"{a} {b}", words, words),
    st.builds(lambda a, b, c: f"{a}/{b}/{c}", words, words, words),
    st.builds(lambda w: f"-{w}", words),
    st.just("k" * 64),
)
bad_label_values = st.one_of(
    st.builds(lambda a, sep, b: f"{a}{sep}{b}", words, st.sampled_from(" ,!@"), words),
    st.builds(lambda w: f"{w}-", words),
    st.just("v" * 64),
)


@st.composite
def containers(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(st.lists(dns_labels, min_size=1, max_size=3, unique=True))
    return [
        {
            "name": name,
            "image": draw(
                st.sampled_from(["nginx", "busybox:1.36", "registry.local/app@sha256:ab"])
            ),
            "ports": [{"containerPort": draw(st.integers(1, 65535))}],
        }
        for name in names
    ]


@st.composite
def deployments(draw: st.DrawFn) -> dict[str, Any]:
    selector = draw(labels.filter(bool))
    template_labels = {**draw(labels), **selector}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": draw(subdomains),
            "namespace": draw(dns_labels),
            "labels": draw(labels),
            "annotations": draw(st.dictionaries(label_keys, st.text(max_size=20), max_size=3)),
        },
        "spec": {
            "replicas": draw(st.integers(0, 100)),
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": template_labels},
                "spec": {"containers": draw(containers())},
            },
        },
    }


@st.composite
def configmaps(draw: st.DrawFn) -> dict[str, Any]:
    data = draw(st.dictionaries(config_keys, st.text(max_size=30), max_size=4))
    binary = draw(st.dictionaries(config_keys, st.binary(max_size=30), max_size=3))
    return {
        "metadata": {
            "name": draw(subdomains),
            "namespace": draw(dns_labels),
            "labels": draw(labels),
        },
        "data": data,
        "binaryData": {
            key: base64.b64encode(value).decode()
            for key, value in binary.items()
            if key not in data
        },
    }


@st.composite
def services(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 3))
    names = draw(st.lists(dns_labels, min_size=count, max_size=count, unique=True))
    return {
        "metadata": {"name": draw(dns_labels), "namespace": draw(dns_labels)},
        "spec": {
            "selector": draw(labels),
            "ports": [
                {"name": name, "port": draw(st.integers(1, 65535)), "protocol": "TCP"}
                for name in names
            ],
        },
    }


@given(deployments())
def test_valid_deployments_pass(obj):
    assert validate_object("Deployment", obj, namespaced=True) == []


@given(configmaps())
def test_valid_configmaps_pass(obj):
    assert validate_object("ConfigMap", obj, namespaced=True) == []


@given(services())
def test_valid_services_pass(obj):
    assert validate_object("Service", obj, namespaced=True) == []


Corruption = Callable[[dict[str, Any], Any], str]


def set_name(obj: dict[str, Any], bad: Any) -> str:
    obj["metadata"]["name"] = bad
    return "metadata.name"


def add_label_key(obj: dict[str, Any], bad: Any) -> str:
    obj["metadata"]["labels"] = {bad: "x"}
    return "metadata.labels"


def add_label_value(obj: dict[str, Any], bad: Any) -> str:
    obj["metadata"]["labels"] = {"app": bad}
    return "metadata.labels"


def drop_image(obj: dict[str, Any], index: Any) -> str:
    containers = obj["spec"]["template"]["spec"]["containers"]
    position = index % len(containers)
    del containers[position]["image"]
    return f"spec.template.spec.containers[{position}].image"


def bad_container_port(obj: dict[str, Any], port: Any) -> str:
    obj["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = port
    return "spec.template.spec.containers[0].ports[0].containerPort"


def mismatch_selector(obj: dict[str, Any], value: Any) -> str:
    key = next(iter(obj["spec"]["selector"]["matchLabels"]))
    obj["spec"]["template"]["metadata"]["labels"][key] = value + "-other"
    return "spec.template.metadata.labels"


def drop_selector(obj: dict[str, Any], _: Any) -> str:
    del obj["spec"]["selector"]
    return "spec.selector"


DEPLOYMENT_CORRUPTIONS: list[tuple[Corruption, st.SearchStrategy[Any]]] = [
    (set_name, bad_names),
    (add_label_key, bad_label_keys),
    (add_label_value, bad_label_values),
    (drop_image, st.integers(0, 10)),
    (bad_container_port, st.one_of(st.integers(max_value=0), st.integers(min_value=65536))),
    (mismatch_selector, label_names),
    (drop_selector, st.none()),
]


@given(deployments(), st.data())
def test_each_deployment_corruption_names_its_field(obj, data):
    corrupt, values = data.draw(st.sampled_from(DEPLOYMENT_CORRUPTIONS))
    broken = copy.deepcopy(obj)
    field = corrupt(broken, data.draw(values))
    errors = validate_object("Deployment", broken, namespaced=True)
    assert len({error.field for error in errors}) == 1, errors
    assert errors[0].field == field


@given(configmaps(), st.integers(1, 2000))
def test_oversized_configmaps_are_refused(obj, excess):
    broken = copy.deepcopy(obj)
    used = sum(len(key) + len(value.encode()) for key, value in broken["data"].items())
    used += sum(
        len(key) + len(base64.b64decode(value)) for key, value in broken["binaryData"].items()
    )
    broken["data"]["zz-big"] = "x" * (1024 * 1024 - used - len("zz-big") + excess)
    broken["binaryData"].pop("zz-big", None)
    errors = validate_object("ConfigMap", broken, namespaced=True)
    assert [(error.field, error.reason) for error in errors] == [("[]", "FieldValueTooLong")]


@given(services(), st.one_of(st.integers(max_value=0), st.integers(min_value=65536)), st.data())
def test_bad_service_ports_name_the_port(obj, port, data):
    broken = copy.deepcopy(obj)
    index = data.draw(st.integers(0, len(broken["spec"]["ports"]) - 1))
    broken["spec"]["ports"][index]["port"] = port
    errors = validate_object("Service", broken, namespaced=True)
    assert [error.field for error in errors] == [f"spec.ports[{index}].port"]


NAME_TEXT = st.text(alphabet="abcXYZ019-_./ ", max_size=70)


def reference_dns_label(value: str) -> bool:
    return (
        0 < len(value) <= 63
        and all(c in LOWER + DIGITS + "-" for c in value)
        and value[0] != "-"
        and value[-1] != "-"
    )


def reference_subdomain(value: str) -> bool:
    return len(value) <= 253 and all(reference_dns_label(part) for part in value.split("."))


def reference_qualified_name(value: str) -> bool:
    prefix, _, name = value.rpartition("/")
    if "/" in value and (not prefix or not reference_subdomain(prefix) or "/" in prefix):
        return False
    return (
        0 < len(name) <= 63
        and all(c in ALNUM + "-_." for c in name)
        and name[0] in ALNUM
        and name[-1] in ALNUM
    )


@given(st.one_of(NAME_TEXT, subdomains, label_keys))
def test_name_rules_agree_with_a_reference(value):
    assert (dns1123_label_errors(value) == []) == reference_dns_label(value)
    assert (dns1123_subdomain_errors(value) == []) == reference_subdomain(value)
    assert (qualified_name_errors(value) == []) == reference_qualified_name(value)
    valid_value = value == "" or (reference_qualified_name(value) and "/" not in value)
    assert (label_value_errors(value) == []) == valid_value
