"""Properties of the request-side rules around apply: unknown fields, write options, Accept."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import MultiDict

from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.field_validation import check_fields, unknown_fields
from pytest_syncer.apiserver.api.strategic_merge import schema_for
from pytest_syncer.apiserver.api.write_options import parse_write_options
from pytest_syncer.apiserver.http.negotiation import (
    MetadataFormat,
    ProtobufFormat,
    TableFormat,
    YamlFormat,
    negotiate,
)
from tests.property.test_apiserver_apply import deployments

DEPLOYMENT = schema_for("apps/v1", "Deployment")
unknown_names = st.sampled_from(["bogus", "colour", "extra"])
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
alternatives = st.sampled_from(
    [
        TABLE,
        "application/json;as=Table;v=v1beta1;g=meta.k8s.io",
        "application/json",
        "*/*",
        "application/vnd.kubernetes.protobuf",
        "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
        "application/yaml",
    ]
)


@given(deployments())
def test_objects_of_declared_fields_have_no_unknown_ones(obj: dict[str, Any]) -> None:
    assert list(unknown_fields(obj, DEPLOYMENT)) == []
    assert check_fields(obj, DEPLOYMENT, "Strict") == []


@given(deployments(), unknown_names, st.sampled_from(["spec", "template", "container"]))
def test_an_added_unknown_field_is_reported_by_its_path(
    obj: dict[str, Any], name: str, where: str
) -> None:
    changed = copy.deepcopy(obj)
    target, path = {
        "spec": (changed["spec"], f"spec.{name}"),
        "template": (changed["spec"]["template"]["spec"], f"spec.template.spec.{name}"),
        "container": (
            changed["spec"]["template"]["spec"]["containers"][0],
            f"spec.template.spec.containers[0].{name}",
        ),
    }[where]
    target[name] = 1
    assert list(unknown_fields(changed, DEPLOYMENT)) == [path]
    assert check_fields(changed, DEPLOYMENT, "Warn") == [f'unknown field "{path}"']
    assert check_fields(changed, DEPLOYMENT, "Ignore") == []
    with pytest.raises(APIError) as raised:
        check_fields(changed, DEPLOYMENT, "Strict")
    assert raised.value.code == 400


@given(st.lists(alternatives, min_size=1, max_size=4), st.booleans())
def test_the_first_servable_alternative_wins(accept: list[str], protobuf: bool) -> None:
    """Servable: JSON (a Table, metadata only), YAML, protobuf without ``as=`` when the type has
    it; a named type is tried before a wildcard, as goautoneg orders them."""
    servable = [a for a in accept if protobuf or a != "application/vnd.kubernetes.protobuf"]
    servable.sort(key=lambda a: a.startswith("*"))
    if not servable:
        with pytest.raises(APIError) as raised:
            negotiate(",".join(accept), {}, protobuf=protobuf)
        assert raised.value.code == 406
        return
    chosen = negotiate(",".join(accept), {}, protobuf=protobuf)
    first = servable[0]
    if "as=Table" in first:
        assert isinstance(chosen, TableFormat)
        assert chosen.api_version == "meta.k8s.io/" + first.split("v=")[1].split(";")[0]
    elif "as=PartialObjectMetadataList" in first:
        assert chosen == MetadataFormat("meta.k8s.io/v1", "PartialObjectMetadataList")
    elif first == "application/vnd.kubernetes.protobuf":
        assert isinstance(chosen, ProtobufFormat)
    elif first == "application/yaml":
        assert isinstance(chosen, YamlFormat)
    else:
        assert chosen is None


@given(st.lists(st.sampled_from(["All", "all", "", "None"]), max_size=3))
def test_only_dry_run_all_is_accepted(values: list[str]) -> None:
    query = MultiDict([("dryRun", value) for value in values])
    if all(value == "All" for value in values):
        assert parse_write_options(query).dry_run is bool(values)
    else:
        with pytest.raises(APIError):
            parse_write_options(query)


@given(st.text(max_size=140), st.booleans())
def test_apply_needs_a_printable_field_manager_of_at_most_128(manager: str, apply: bool) -> None:
    query = MultiDict({"fieldManager": manager} if manager else {})
    valid = len(manager) <= 128 and manager.isprintable() and (bool(manager) or not apply)
    if valid:
        options = parse_write_options(
            query, user_agent="kubectl/v1.32.4 (linux/amd64)", apply=apply
        )
        assert options.field_manager == (manager or "kubectl")
    else:
        with pytest.raises(APIError) as raised:
            parse_write_options(query, apply=apply)
        assert raised.value.code == 422
