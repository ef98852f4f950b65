"""Field sets, FieldsV1 and apply merges on examples whose Kubernetes answer is known."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pytest_syncer.apiserver.api.managed_fields import (
    ApplyConflictError,
    apply_configuration,
    field_set,
    parse_entries,
    path_text,
    record_update,
    to_fields_v1,
)
from pytest_syncer.apiserver.api.strategic_merge import schema_for

DEPLOYMENT = schema_for("apps/v1", "Deployment")
CONFIG_MAP = schema_for("v1", "ConfigMap")


def _deployment(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "u",
            "resourceVersion": "5",
            "labels": {"app": "web"},
            "annotations": {"kcp.io/cluster": "root"},
        },
        "spec": spec,
    }


def test_fields_v1_of_a_deployment_matches_kubernetes() -> None:
    obj = _deployment(
        replicas=2,
        selector={"matchLabels": {"app": "web"}},
        template={
            "spec": {
                "containers": [
                    {
                        "name": "nginx",
                        "image": "nginx",
                        "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    }
                ]
            }
        },
    )
    obj["metadata"]["finalizers"] = ["x.io/a"]
    assert to_fields_v1(field_set(obj, DEPLOYMENT)) == {
        "f:metadata": {
            "f:finalizers": {'v:"x.io/a"': {}},
            "f:labels": {"f:app": {}},
        },
        "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
                "f:spec": {
                    "f:containers": {
                        'k:{"name":"nginx"}': {
                            ".": {},
                            "f:image": {},
                            "f:name": {},
                            "f:ports": {
                                'k:{"containerPort":80,"protocol":"TCP"}': {
                                    ".": {},
                                    "f:containerPort": {},
                                    "f:protocol": {},
                                }
                            },
                        }
                    }
                }
            },
        },
    }


def test_path_text_is_how_kubernetes_prints_conflicts() -> None:
    path = ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"x"}', "f:image")
    assert path_text(path) == '.spec.template.spec.containers[name="x"].image'
    assert path_text(("f:metadata", "f:finalizers", 'v:"a"')) == '.metadata.finalizers[="a"]'


def _config_map(**data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data}


def _apply(entries: Any, live: Any, config: Any, manager: str, force: bool = False) -> Any:
    return apply_configuration(
        entries,
        live,
        config,
        CONFIG_MAP,
        manager=manager,
        api_version="v1",
        time="2026-01-01T00:00:00Z",
        force=force,
    )


def test_conflict_then_force_then_shared_ownership() -> None:
    live, entries = _apply([], None, _config_map(a="1", b="2"), "first")
    with pytest.raises(ApplyConflictError) as raised:
        _apply(entries, live, _config_map(a="other"), "second")
    assert raised.value.conflicts == [("first", "v1", ("f:data", "f:a"))]
    assert (
        str(raised.value) == 'Apply failed with 1 conflict: conflict with "first" using v1: .data.a'
    )
    shared, entries = _apply(entries, live, _config_map(b="2"), "second")
    assert {e.manager: e.fields for e in entries} == {
        "first": {("f:data", "f:a"), ("f:data", "f:b")},
        "second": {("f:data", "f:b")},
    }
    forced, entries = _apply(entries, shared, _config_map(a="other"), "second", force=True)
    assert forced["data"] == {"a": "other", "b": "2"}
    assert {e.manager: e.fields for e in entries} == {
        "first": {("f:data", "f:b")},
        "second": {("f:data", "f:a")},
    }


def test_a_field_another_manager_still_owns_is_not_removed() -> None:
    live, entries = _apply([], None, _config_map(a="1", b="2"), "first")
    live, entries = _apply(entries, live, _config_map(b="2"), "second")
    dropped, entries = _apply(entries, live, _config_map(), "first")
    assert dropped["data"] == {"b": "2"}


def test_an_update_moves_ownership_and_the_entry_round_trips() -> None:
    _, entries = _apply([], None, _config_map(a="1"), "applier")
    old = _config_map(a="1")
    new = _config_map(a="2", c="3")
    updated = record_update(
        entries, old, new, CONFIG_MAP, manager="editor", api_version="v1", time="t"
    )
    assert [e.manager for e in updated] == ["editor"]
    assert updated[0].fields == {("f:data", "f:a"), ("f:data", "f:c")}
    assert parse_entries([e.to_json() for e in updated]) == updated
    assert (
        record_update(updated, new, new, CONFIG_MAP, manager="x", api_version="v1", time="t")
        is updated
    )


def test_a_key_field_one_configuration_leaves_out_names_the_same_item() -> None:
    def deployment(port: dict[str, Any]) -> dict[str, Any]:
        return _deployment(
            template={"spec": {"containers": [{"name": "web", "image": "i", "ports": [port]}]}}
        )

    def apply(entries: Any, live: Any, config: Any) -> Any:
        return apply_configuration(
            entries,
            live,
            config,
            DEPLOYMENT,
            manager="m",
            api_version="apps/v1",
            time="t",
            force=False,
        )

    live, entries = apply([], None, deployment({"containerPort": 80}))
    merged, _ = apply(entries, live, deployment({"containerPort": 80, "protocol": "TCP"}))
    (container,) = merged["spec"]["template"]["spec"]["containers"]
    assert container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]


def test_metadata_members_a_write_keeps_as_they_are_stay_with_their_owner() -> None:
    """A write whose metadata copy holds the stored labels and owner references themselves (a
    status write, an annotation added) hands the manager only what it changed, whether those
    members are the stored objects or equal copies: ``_differing_values`` skips the shared
    ones, which must not change the answer."""
    owner = {"apiVersion": "v1", "kind": "Pod", "name": "p", "uid": "u1", "controller": True}
    old = _config_map(a="1")
    old["metadata"] = {"name": "c", "labels": {"app": "web"}, "ownerReferences": [owner]}
    entries = record_update(
        [], None, old, CONFIG_MAP, manager="creator", api_version="v1", time="t"
    )
    new = {**old, "metadata": {**old["metadata"], "annotations": {"note": "x"}}}
    copied = {**old, "metadata": copy.deepcopy(new["metadata"])}
    for written in (new, copied):
        updated = record_update(
            entries, old, written, CONFIG_MAP, manager="annotator", api_version="v1", time="t"
        )
        assert {entry.manager: entry.fields for entry in updated} == {
            "creator": {
                ("f:data", "f:a"),
                ("f:metadata", "f:labels", "f:app"),
                ("f:metadata", "f:ownerReferences", 'k:{"uid":"u1"}'),
                ("f:metadata", "f:ownerReferences", 'k:{"uid":"u1"}', "f:apiVersion"),
                ("f:metadata", "f:ownerReferences", 'k:{"uid":"u1"}', "f:controller"),
                ("f:metadata", "f:ownerReferences", 'k:{"uid":"u1"}', "f:kind"),
                ("f:metadata", "f:ownerReferences", 'k:{"uid":"u1"}', "f:name"),
                ("f:metadata", "f:ownerReferences", 'k:{"uid":"u1"}', "f:uid"),
            },
            "annotator": {("f:metadata", "f:annotations", "f:note")},
        }
    relabelled = {**old, "metadata": {**old["metadata"], "labels": {"app": "db"}}}
    updated = record_update(
        entries, old, relabelled, CONFIG_MAP, manager="labeller", api_version="v1", time="t"
    )
    assert {entry.manager: entry.fields for entry in updated}["labeller"] == {
        ("f:metadata", "f:labels", "f:app")
    }
