"""Strategic merge patch, merge keys from the v1.32 schemas, patches shaped like kubectl's."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pytest_syncer.apiserver.api.patch import PatchError
from pytest_syncer.apiserver.api.strategic_merge import (
    StrategicMergeUnsupportedError,
    apply_strategic_merge_patch,
    field_meta,
    is_strategic_mergeable,
    schema_for,
)


def deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "labels": {"app": "web", "tier": "front"},
            "finalizers": ["a.example/one"],
        },
        "spec": {
            "replicas": 1,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "nginx:1",
                            "args": ["--a", "--b"],
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            "env": [{"name": "A", "value": "1"}, {"name": "C", "value": "3"}],
                            "volumeMounts": [{"mountPath": "/data", "name": "data"}],
                        },
                        {"name": "sidecar", "image": "busybox"},
                    ],
                    "volumes": [{"name": "data", "emptyDir": {}}],
                },
            },
        },
        "status": {
            "conditions": [
                {"type": "Available", "status": "False"},
                {"type": "Progressing", "status": "True"},
            ]
        },
    }


def patch_deployment(patch: dict[str, Any]) -> dict[str, Any]:
    original = deployment()
    result: dict[str, Any] = apply_strategic_merge_patch(original, patch, "apps/v1", "Deployment")
    assert original == deployment()
    return result


def containers(result: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = result["spec"]["template"]["spec"]["containers"]
    return found


def test_kubectl_image_change_merges_the_container_by_name():
    result = patch_deployment(
        {
            "spec": {
                "template": {
                    "spec": {
                        "$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
                        "containers": [{"image": "nginx:2", "name": "web"}],
                    }
                }
            }
        }
    )
    web, sidecar = containers(result)
    assert web["image"] == "nginx:2"
    assert web["env"] == [{"name": "A", "value": "1"}, {"name": "C", "value": "3"}]
    assert sidecar == {"name": "sidecar", "image": "busybox"}


def test_kubectl_adds_an_env_var_in_order():
    result = patch_deployment(
        {
            "spec": {
                "template": {
                    "spec": {
                        "$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
                        "containers": [
                            {
                                "$setElementOrder/env": [
                                    {"name": "A"},
                                    {"name": "B"},
                                    {"name": "C"},
                                ],
                                "env": [{"name": "B", "value": "2"}],
                                "name": "web",
                            }
                        ],
                    }
                }
            }
        }
    )
    assert [entry["name"] for entry in containers(result)[0]["env"]] == ["A", "B", "C"]


def test_kubectl_removes_a_container_with_a_delete_directive():
    result = patch_deployment(
        {
            "spec": {
                "template": {
                    "spec": {
                        "$setElementOrder/containers": [{"name": "web"}],
                        "containers": [{"$patch": "delete", "name": "sidecar"}],
                    }
                }
            }
        }
    )
    assert [container["name"] for container in containers(result)] == ["web"]


def test_set_element_order_reorders_without_changing_contents():
    result = patch_deployment(
        {
            "spec": {
                "template": {
                    "spec": {"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "web"}]}
                }
            }
        }
    )
    assert [container["name"] for container in containers(result)] == ["sidecar", "web"]
    assert containers(result)[1]["image"] == "nginx:1"


def test_order_follows_kubernetes_merge_of_patch_order_and_server_order():
    # Patch items keep the patch's order; a server-only item goes before a patch item only
    # when the server had it earlier, and a new item (unknown to the server) goes first.
    result = patch_deployment(
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "init-like", "image": "x"},
                            {"name": "sidecar", "image": "busybox:2"},
                        ]
                    }
                }
            }
        }
    )
    assert [container["name"] for container in containers(result)] == [
        "init-like",
        "web",
        "sidecar",
    ]


def test_ports_merge_by_container_port_and_mounts_by_mount_path():
    result = patch_deployment(
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "web",
                                "ports": [
                                    {"containerPort": 80, "name": "http"},
                                    {"containerPort": 443},
                                ],
                                "volumeMounts": [{"mountPath": "/data", "readOnly": True}],
                            }
                        ]
                    }
                }
            }
        }
    )
    web = containers(result)[0]
    assert web["ports"] == [
        {"containerPort": 80, "protocol": "TCP", "name": "http"},
        {"containerPort": 443},
    ]
    assert web["volumeMounts"] == [{"mountPath": "/data", "name": "data", "readOnly": True}]


def test_lists_without_a_merge_strategy_are_replaced():
    result = patch_deployment(
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "args": ["--c"]}]}}}}
    )
    assert containers(result)[0]["args"] == ["--c"]


def test_retain_keys_clears_the_other_strategy_fields():
    result = patch_deployment({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})
    assert result["spec"]["strategy"] == {"type": "Recreate"}


def test_retain_keys_on_a_volume_switches_its_source():
    result = patch_deployment(
        {
            "spec": {
                "template": {
                    "spec": {
                        "volumes": [
                            {
                                "$retainKeys": ["name", "secret"],
                                "name": "data",
                                "secret": {"secretName": "s"},
                            }
                        ]
                    }
                }
            }
        }
    )
    assert result["spec"]["template"]["spec"]["volumes"] == [
        {"name": "data", "secret": {"secretName": "s"}}
    ]


def test_retain_keys_must_list_the_patched_fields():
    with pytest.raises(PatchError, match=r"\$retainKeys"):
        patch_deployment({"spec": {"strategy": {"$retainKeys": ["rollingUpdate"], "type": "X"}}})


def test_primitive_merge_lists_union_and_delete():
    added = patch_deployment({"metadata": {"finalizers": ["b.example/two", "a.example/one"]}})
    assert added["metadata"]["finalizers"] == ["b.example/two", "a.example/one"]
    merged = patch_deployment({"metadata": {"finalizers": ["b.example/two"]}})
    assert merged["metadata"]["finalizers"] == ["b.example/two", "a.example/one"]
    removed = patch_deployment(
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a.example/one"]}}
    )
    assert removed["metadata"]["finalizers"] == []


def test_primitive_list_with_set_element_order():
    result = patch_deployment(
        {
            "metadata": {
                "$setElementOrder/finalizers": ["b.example/two", "a.example/one"],
                "finalizers": ["b.example/two"],
            }
        }
    )
    assert result["metadata"]["finalizers"] == ["b.example/two", "a.example/one"]


def test_replace_directive_on_a_list_and_on_a_map():
    result = patch_deployment(
        {
            "metadata": {"labels": {"$patch": "replace", "only": "this"}},
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "solo", "image": "x"}, {"$patch": "replace"}]}
                }
            },
        }
    )
    assert result["metadata"]["labels"] == {"only": "this"}
    assert containers(result) == [{"name": "solo", "image": "x"}]


def test_delete_directive_on_a_map_empties_it():
    result = patch_deployment({"spec": {"strategy": {"$patch": "delete"}}})
    assert result["spec"]["strategy"] == {}


def test_null_deletes_and_maps_merge():
    result = patch_deployment({"metadata": {"labels": {"tier": None, "new": "x"}}, "status": None})
    assert result["metadata"]["labels"] == {"app": "web", "new": "x"}
    assert "status" not in result


def test_nulls_inside_new_values_are_dropped():
    result = patch_deployment({"spec": {"paused": True, "selector": {"matchLabels": {"a": None}}}})
    assert result["spec"]["paused"] is True
    assert result["spec"]["selector"] == {"matchLabels": {}}


def test_status_conditions_merge_by_type():
    result = patch_deployment(
        {"status": {"conditions": [{"type": "Available", "status": "True", "reason": "Ok"}]}}
    )
    assert result["status"]["conditions"] == [
        {"type": "Available", "status": "True", "reason": "Ok"},
        {"type": "Progressing", "status": "True"},
    ]


def test_core_types_use_their_own_keys():
    service = {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}}
    result = apply_strategic_merge_patch(
        service, {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}, "v1", "Service"
    )
    assert result["spec"]["ports"] == [{"port": 80, "targetPort": 9090}, {"port": 443}]
    configmap = {"data": {"a": "1", "b": "2"}}
    patched = apply_strategic_merge_patch(
        configmap, {"data": {"a": None, "c": "3"}}, "v1", "ConfigMap"
    )
    assert patched == {"data": {"b": "2", "c": "3"}}


def test_merge_key_is_required_in_merged_lists():
    with pytest.raises(PatchError, match="does not contain declared merge key: name"):
        patch_deployment({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}})


def test_bad_directives_are_refused():
    with pytest.raises(PatchError, match="unknown patch type: bogus"):
        patch_deployment({"spec": {"$patch": "bogus"}})
    with pytest.raises(PatchError, match="merging lists cannot yet be specified"):
        patch_deployment({"spec": {"template": {"spec": {"containers": [{"$patch": "merge"}]}}}})
    with pytest.raises(PatchError, match="must be a JSON object"):
        apply_strategic_merge_patch({}, [], "v1", "ConfigMap")


def test_custom_resources_are_not_strategic_mergeable():
    assert not is_strategic_mergeable("workload.kcp.io/v1alpha1", "SyncTarget")
    assert not is_strategic_mergeable("example.com/v1", "Widget")
    with pytest.raises(StrategicMergeUnsupportedError, match="unknown format"):
        apply_strategic_merge_patch({}, {"spec": {}}, "example.com/v1", "Widget")
    assert is_strategic_mergeable("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    assert not issubclass(StrategicMergeUnsupportedError, PatchError)


def test_schemas_carry_the_merge_metadata():
    pod_spec = field_meta(schema_for("v1", "Pod"), "spec").schema
    volumes = field_meta(pod_spec, "volumes")
    assert volumes.merge_key == "name"
    assert volumes.strategies == ("merge", "retainKeys")
    assert schema_for("apps/v1", "Deployment") is schema_for("apps/v1", "Deployment")
    assert schema_for("apps/v2", "Deployment") is None


def test_whole_document_replace_at_the_top():
    original = deployment()
    result = apply_strategic_merge_patch(
        copy.deepcopy(original),
        {"$patch": "replace", "kind": "Deployment"},
        "apps/v1",
        "Deployment",
    )
    assert result == {"kind": "Deployment"}
