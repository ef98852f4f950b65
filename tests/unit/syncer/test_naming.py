"""Example tests for the hashed names; REFERENCE.md's test vector is pinned here."""

from __future__ import annotations

import json
import re

import pytest

from pytest_syncer.syncer.interfaces import NamespaceLocator, SyncTarget
from pytest_syncer.syncer.transform.naming import (
    base36,
    base62,
    go_json_string,
    locator_json,
    namespace_for_locator,
    sync_status_name,
    sync_target_key,
)

VECTOR_TARGET = SyncTarget(
    name="us-east1", upstream_cluster="root:org:ws", uid="8c2a0a4e-7f2f-4d7b-9d8f-1f5b3f2a9c10"
)
VECTOR_LOCATOR_JSON = (
    '{"syncTarget":{"cluster":"root:org:ws","name":"us-east1",'
    '"uid":"8c2a0a4e-7f2f-4d7b-9d8f-1f5b3f2a9c10"},"cluster":"root:org:ws","namespace":"default"}'
)
SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def test_reference_vector_sync_target_key() -> None:
    assert sync_target_key("root:org:ws", "us-east1") == "1q5XrgW8fxFMT4ZQa6lVIrD2wF7Vaw0fgFzJso"
    assert VECTOR_TARGET.key == "1q5XrgW8fxFMT4ZQa6lVIrD2wF7Vaw0fgFzJso"


def test_reference_vector_locator_and_namespace() -> None:
    locator = NamespaceLocator(VECTOR_TARGET, "root:org:ws", "default")
    assert locator.to_json() == VECTOR_LOCATOR_JSON
    assert namespace_for_locator(VECTOR_LOCATOR_JSON) == "kcp-h18qw0zs4dlx"
    assert locator.downstream_namespace == "kcp-h18qw0zs4dlx"


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
