"""Example tests for the hashed names, against kcp's test vector (`tests/kcp_vector.py`)."""

from __future__ import annotations

import json
import re

import pytest

from pytest_syncer.contract.naming import (
    base36,
    base62,
    go_json_string,
    locator_json,
    namespace_for_locator,
    placement_label,
    sync_status_name,
    sync_target_key,
)
from pytest_syncer.contract.objects import NamespaceLocator, SyncTarget
from tests import kcp_vector as vector

VECTOR_TARGET = SyncTarget(
    name=vector.TARGET_NAME, upstream_cluster=vector.UPSTREAM_CLUSTER, uid=vector.TARGET_UID
)
SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def test_reference_vector_sync_target_key() -> None:
    assert sync_target_key(vector.UPSTREAM_CLUSTER, vector.TARGET_NAME) == vector.SYNC_TARGET_KEY
    assert VECTOR_TARGET.key == vector.SYNC_TARGET_KEY
    assert placement_label(VECTOR_TARGET.key) == vector.PLACEMENT_LABEL


def test_reference_vector_locator_and_namespace() -> None:
    locator = NamespaceLocator(VECTOR_TARGET, vector.UPSTREAM_CLUSTER, vector.NAMESPACE)
    assert locator.to_json() == vector.LOCATOR_JSON
    assert namespace_for_locator(vector.LOCATOR_JSON) == vector.DOWNSTREAM_NAMESPACE
    assert locator.downstream_namespace == vector.DOWNSTREAM_NAMESPACE


def test_base62_has_no_leading_zeros_and_uses_upper_case_last() -> None:
    assert base62(b"") == "0"
    assert base62(b"\x00\x00\x3d") == "Z"
    assert base62(b"\x3e") == "10"


def test_base36_writes_one_zero_per_leading_zero_byte() -> None:
    assert base36(b"\x00\x00\x01") == "001"
    assert base36(b"\x00") == "0"
    assert base36(b"\x24") == "10"


def test_go_json_string_escapes_like_go() -> None:
    assert go_json_string("<a&b>") == '"\\u003ca\\u0026b\\u003e"'
    assert go_json_string("\u2028\u2029") == '"\\u2028\\u2029"'
    assert go_json_string('é"\\\n\x01') == '"é\\"\\\\\\n\\u0001"'
    assert go_json_string("\ud800") == '"\\ufffd"'


def test_locator_json_escapes_every_field() -> None:
    text = locator_json("c<", "n>", "u&", "c2", "ns")
    assert not set(text) & set("<>&")
    assert json.loads(text)["syncTarget"] == {"cluster": "c<", "name": "n>", "uid": "u&"}


def test_sync_status_name_is_plain_when_short() -> None:
    assert sync_status_name("deployments", "web", "us-east1") == "deployments.web.us-east1"


@pytest.mark.parametrize("workload", ["a" * 240, "b-" * 120 + "c", "d." * 120 + "e"])
def test_sync_status_name_is_hashed_down_to_a_valid_name(workload: str) -> None:
    name = sync_status_name("deployments", workload, "us-east1")
    assert len(name) <= 253
    assert SUBDOMAIN.match(name), name
    assert name != sync_status_name("deployments", workload, "us-east2")
