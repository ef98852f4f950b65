"""Object validation: each rule, with the real server's field paths, reasons and messages."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from pytest_syncer.apiserver.api import names
from pytest_syncer.apiserver.api.validation.field_errors import (
    FieldError,
    invalid_message,
    invalid_status,
)
from pytest_syncer.apiserver.api.validation.kinds import validate_object


def deployment(kind: str = "Deployment") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web", "tier": "front"}},
                "spec": {
                    "containers": [
                        {"name": "nginx", "image": "nginx:1", "ports": [{"containerPort": 80}]}
                    ]
                },
            },
        },
    }


def fields(errors: list[FieldError]) -> list[tuple[str, str]]:
    return [(error.field, error.reason) for error in errors]


def test_field_error_becomes_a_status_cause():
    error = FieldError("metadata.name", "FieldValueRequired", "Required value")
    assert error.to_cause() == {
        "reason": "FieldValueRequired",
        "message": "Required value",
        "field": "metadata.name",
    }
    assert str(error) == "metadata.name: Required value"


def test_invalid_status_is_a_complete_422():
    errors = validate_object("ConfigMap", {"metadata": {"name": "Bad"}}, namespaced=True)
    status = invalid_status("ConfigMap", "", "Bad", errors)
    assert status["code"] == 422
    assert status["reason"] == "Invalid"
    assert status["details"]["kind"] == "ConfigMap"
    assert "group" not in status["details"]
    assert status["message"].startswith('ConfigMap "Bad" is invalid: [metadata.name: Invalid')
    assert [cause["field"] for cause in status["details"]["causes"]] == [
        "metadata.name",
        "metadata.namespace",
    ]
    grouped = invalid_status("Deployment", "apps", "x", errors[:1])
    assert grouped["details"]["group"] == "apps"
    assert grouped["message"].startswith('Deployment.apps "x" is invalid: metadata.name: ')
    assert invalid_message("ConfigMap", "a", [errors[0], errors[0]]).count("metadata.name") == 1


@pytest.mark.parametrize("kind", ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"])
def test_valid_workloads_pass(kind):
    assert validate_object(kind, deployment(kind), namespaced=True) == []


def test_name_is_required_unless_generate_name():
    obj = {"metadata": {"namespace": "default"}}
    errors = validate_object("ConfigMap", obj, namespaced=True)
    assert fields(errors) == [("metadata.name", "FieldValueRequired")]
    assert errors[0].message == "Required value: name or generateName is required"
    obj["metadata"]["generateName"] = "web-"
    assert validate_object("ConfigMap", obj, namespaced=True) == []
    obj["metadata"]["generateName"] = "Web-"
    assert fields(validate_object("ConfigMap", obj, namespaced=True)) == [
        ("metadata.generateName", "FieldValueInvalid")
    ]


@pytest.mark.parametrize(
    ("kind", "name", "ok"),
    [
        ("ConfigMap", "a.b-c", True),
        ("ConfigMap", "a" * 253, True),
        ("ConfigMap", "a" * 254, False),
        ("ConfigMap", "A", False),
        ("ConfigMap", "-a", False),
        ("Namespace", "a.b", False),
        ("Namespace", "a" * 63, True),
        ("Namespace", "a" * 64, False),
        ("Service", "1abc", False),
        ("Service", "abc-1", True),
        ("Pod", "1abc", True),
        ("ClusterRole", "pytest-syncer:upstream", True),
        ("ClusterRole", "Admin", True),
        ("ClusterRole", "..", False),
        ("ClusterRoleBinding", "a/b", False),
        ("RoleBinding", "a%b", False),
    ],
)
def test_names_follow_the_kind(kind, name, ok):
    namespaced = kind not in {"Namespace", "ClusterRole", "ClusterRoleBinding"}
    obj: dict[str, Any] = {"metadata": {"name": name}}
    if namespaced:
        obj["metadata"]["namespace"] = "default"
    if kind == "Service":
        obj["spec"] = {"ports": [{"port": 80}]}
    if kind == "Pod":
        obj["spec"] = {"containers": [{"name": "c", "image": "i"}]}
    if kind.endswith("Binding"):
        obj["roleRef"] = {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "r",
        }
        obj["subjects"] = []
    errors = validate_object(kind, obj, namespaced=namespaced)
    assert (errors == []) is ok
    assert all(error.field == "metadata.name" for error in errors)


def test_long_name_message_matches_the_server():
    errors = validate_object("Namespace", {"metadata": {"name": "a" * 64}}, namespaced=False)
    assert (
        errors[0].message == 'Invalid value: "' + "a" * 64 + '": must be no more than 63 characters'
    )


def test_namespaced_objects_need_a_namespace():
    errors = validate_object("ConfigMap", {"metadata": {"name": "a"}}, namespaced=True)
    assert fields(errors) == [("metadata.namespace", "FieldValueRequired")]
    assert validate_object("Namespace", {"metadata": {"name": "a"}}, namespaced=False) == []


@pytest.mark.parametrize(
    ("labels", "bad"),
    [
        ({"app": "web", "example.com/tier": "a_b.c", "empty": ""}, None),
        ({"bad key": "x"}, "bad key"),
        ({"a/b/c": "x"}, "a/b/c"),
        ({"Example.com/x": "x"}, "Example.com/x"),
        ({"k": "bad value"}, "bad value"),
        ({"k": "v" * 64}, "v" * 64),
        ({"k" * 64: "v"}, "k" * 64),
    ],
)
def test_labels(labels, bad):
    obj = {"metadata": {"name": "a", "namespace": "n", "labels": labels}}
    errors = validate_object("ConfigMap", obj, namespaced=True)
    if bad is None:
        assert errors == []
    else:
        assert {error.field for error in errors} == {"metadata.labels"}
        assert all(f'Invalid value: "{bad}"' in error.message for error in errors)


def test_annotations_keys_and_total_size():
    obj: dict[str, Any] = {
        "metadata": {"name": "a", "namespace": "n", "annotations": {"Example.com/Key": "x"}}
    }
    assert validate_object("ConfigMap", obj, namespaced=True) == []
    obj["metadata"]["annotations"] = {"bad key": "x"}
    assert fields(validate_object("ConfigMap", obj, namespaced=True)) == [
        ("metadata.annotations", "FieldValueInvalid")
    ]
    obj["metadata"]["annotations"] = {"big": "x" * (256 * 1024 - 3)}
    assert validate_object("ConfigMap", obj, namespaced=True) == []
    obj["metadata"]["annotations"] = {"big": "x" * (256 * 1024 - 2)}
    errors = validate_object("ConfigMap", obj, namespaced=True)
    assert fields(errors) == [("metadata.annotations", "FieldValueTooLong")]
    assert errors[0].message == "Too long: must have at most 262144 bytes"


def test_configmap_size_limit_counts_keys_and_decoded_binary_data():
    limit = 1024 * 1024
    obj: dict[str, Any] = {
        "metadata": {"name": "big", "namespace": "n"},
        "data": {"a": "x" * (limit - 2)},
        "binaryData": {"b": base64.b64encode(b"").decode()},
    }
    assert validate_object("ConfigMap", obj, namespaced=True) == []
    obj["binaryData"] = {"b": base64.b64encode(b"y").decode()}
    errors = validate_object("ConfigMap", obj, namespaced=True)
    assert [str(error) for error in errors] == ["[]: Too long: must have at most 1048576 bytes"]
    assert errors[0].reason == "FieldValueTooLong"


def test_configmap_keys():
    obj = {
        "metadata": {"name": "a", "namespace": "n"},
        "data": {"ok.key_1": "", "bad/key": "x", "..": "y"},
        "binaryData": {"ok.key_1": "eA=="},
    }
    errors = validate_object("ConfigMap", obj, namespaced=True)
    assert fields(errors) == [
        ("data[bad/key]", "FieldValueInvalid"),
        ("data[..]", "FieldValueInvalid"),
        ("binaryData[ok.key_1]", "FieldValueInvalid"),
    ]
    assert "must not be '..'" in errors[1].message
    assert "duplicate of key present in data" in errors[2].message


def test_secret_data_must_be_base64_and_is_never_echoed():
    obj: dict[str, Any] = {
        "metadata": {"name": "s", "namespace": "n"},
        "data": {"password": "c2VjcmV0", "token": "not base64!"},
    }
    errors = validate_object("Secret", obj, namespaced=True)
    assert fields(errors) == [("data[token]", "FieldValueInvalid")]
    assert "not base64!" not in errors[0].message
    assert "base64" in errors[0].message


def test_secret_size_counts_decoded_data_and_string_data():
    limit = 1024 * 1024
    half = b"x" * (limit // 2)
    obj: dict[str, Any] = {
        "metadata": {"name": "s", "namespace": "n"},
        "data": {"a": base64.b64encode(half).decode()},
        "stringData": {"b": "y" * (limit // 2 - 2)},
    }
    assert validate_object("Secret", obj, namespaced=True) == []
    obj["stringData"]["b"] += "y"
    errors = validate_object("Secret", obj, namespaced=True)
    assert [str(error) for error in errors] == ["data: Too long: must have at most 1048576 bytes"]


def test_tls_secret_needs_its_keys():
    obj: dict[str, Any] = {
        "metadata": {"name": "s", "namespace": "n"},
        "type": "kubernetes.io/tls",
        "data": {},
    }
    assert fields(validate_object("Secret", obj, namespaced=True)) == [
        ("data[tls.crt]", "FieldValueRequired"),
        ("data[tls.key]", "FieldValueRequired"),
    ]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["spec"].pop("selector"), [("spec.selector", "FieldValueRequired")]),
        (lambda d: d["spec"].update(selector={}), [("spec.selector", "FieldValueInvalid")]),
        (
            lambda d: d["spec"]["selector"].update(matchLabels={"app": "db"}),
            [("spec.template.metadata.labels", "FieldValueInvalid")],
        ),
        (
            lambda d: d["spec"]["selector"].update(
                matchExpressions=[{"key": "tier", "operator": "NotIn", "values": ["front"]}]
            ),
            [("spec.template.metadata.labels", "FieldValueInvalid")],
        ),
        (lambda d: d["spec"].pop("template"), [("spec.template", "FieldValueRequired")]),
        (
            lambda d: d["spec"]["template"]["spec"].update(containers=[]),
            [("spec.template.spec.containers", "FieldValueRequired")],
        ),
        (
            lambda d: d["spec"]["template"]["spec"]["containers"][0].pop("image"),
            [("spec.template.spec.containers[0].image", "FieldValueRequired")],
        ),
        (
            lambda d: d["spec"]["template"]["spec"]["containers"][0].pop("name"),
            [("spec.template.spec.containers[0].name", "FieldValueRequired")],
        ),
        (
            lambda d: d["spec"]["template"]["spec"]["containers"].append(
                {"name": "nginx", "image": "x"}
            ),
            [("spec.template.spec.containers[1].name", "FieldValueDuplicate")],
        ),
        (
            lambda d: d["spec"]["template"]["spec"]["containers"][0]["ports"][0].update(
                containerPort=70000
            ),
            [("spec.template.spec.containers[0].ports[0].containerPort", "FieldValueInvalid")],
        ),
        (
            lambda d: d["spec"]["template"]["spec"].update(restartPolicy="Never"),
            [("spec.template.spec.restartPolicy", "FieldValueNotSupported")],
        ),
        (lambda d: d["spec"].update(replicas=-1), [("spec.replicas", "FieldValueInvalid")]),
        (
            lambda d: d["spec"]["selector"].update(
                matchExpressions=[{"key": "a", "operator": "Bogus"}]
            ),
            [("spec.selector", "FieldValueInvalid")],
        ),
    ],
)
def test_workload_rules(mutate, expected):
    obj = deployment()
    mutate(obj)
    assert fields(validate_object("Deployment", obj, namespaced=True)) == expected


def test_workload_messages_match_the_server():
    obj = deployment()
    obj["spec"]["selector"] = {}
    [empty] = validate_object("Deployment", obj, namespaced=True)
    assert empty.message == "Invalid value: {}: empty selector is invalid for deployment"
    obj = deployment()
    obj["spec"]["selector"]["matchLabels"] = {"app": "db"}
    [mismatch] = validate_object("Deployment", obj, namespaced=True)
    assert mismatch.message == (
        'Invalid value: {"app":"web","tier":"front"}: `selector` does not match template `labels`'
    )


def job() -> dict[str, Any]:
    return {
        "metadata": {"name": "j", "namespace": "n"},
        "spec": {
            "template": {
                "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}
            }
        },
    }


def test_jobs_and_cronjobs():
    assert validate_object("Job", job(), namespaced=True) == []
    always = job()
    always["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    assert fields(validate_object("Job", always, namespaced=True)) == [
        ("spec.template.spec.restartPolicy", "FieldValueNotSupported")
    ]
    missing = job()
    del missing["spec"]["template"]["spec"]["restartPolicy"]
    assert fields(validate_object("Job", missing, namespaced=True)) == [
        ("spec.template.spec.restartPolicy", "FieldValueRequired")
    ]
    assert fields(validate_object("Job", {"metadata": job()["metadata"]}, namespaced=True)) == [
        ("spec.template", "FieldValueRequired")
    ]
    cron: dict[str, Any] = {
        "metadata": {"name": "c", "namespace": "n"},
        "spec": {"schedule": "*/1 * * * *", "jobTemplate": {"spec": job()["spec"]}},
    }
    assert validate_object("CronJob", cron, namespaced=True) == []
    del cron["spec"]["schedule"]
    assert fields(validate_object("CronJob", cron, namespaced=True)) == [
        ("spec.schedule", "FieldValueRequired")
    ]


def test_pods_need_containers():
    pod: dict[str, Any] = {"metadata": {"name": "p", "namespace": "n"}, "spec": {}}
    assert fields(validate_object("Pod", pod, namespaced=True)) == [
        ("spec.containers", "FieldValueRequired")
    ]
    pod["spec"] = {"containers": [{"name": "Bad_Name", "image": "i"}]}
    assert fields(validate_object("Pod", pod, namespaced=True)) == [
        ("spec.containers[0].name", "FieldValueInvalid")
    ]


def service(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "svc", "namespace": "n"}, "spec": spec}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"ports": [{"port": 80, "targetPort": 8080}]}, []),
        ({"ports": [{"port": 80, "targetPort": "http"}]}, []),
        ({"clusterIP": "None"}, []),
        ({"type": "ExternalName", "externalName": "example.com"}, []),
        ({}, [("spec.ports", "FieldValueRequired")]),
        ({"type": "ExternalName"}, [("spec.externalName", "FieldValueRequired")]),
        ({"type": "Weird", "clusterIP": "None"}, [("spec.type", "FieldValueNotSupported")]),
        ({"ports": [{"port": 0}]}, [("spec.ports[0].port", "FieldValueInvalid")]),
        (
            {"ports": [{"port": 80, "protocol": "ICMP"}]},
            [("spec.ports[0].protocol", "FieldValueNotSupported")],
        ),
        (
            {"ports": [{"port": 80}, {"port": 81}]},
            [
                ("spec.ports[0].name", "FieldValueRequired"),
                ("spec.ports[1].name", "FieldValueRequired"),
            ],
        ),
        (
            {"ports": [{"name": "a", "port": 80}, {"name": "a", "port": 81}]},
            [("spec.ports[1].name", "FieldValueDuplicate")],
        ),
        (
            {"ports": [{"port": 80, "targetPort": "no--way"}]},
            [("spec.ports[0].targetPort", "FieldValueInvalid")],
        ),
        ({"ports": [{"name": "x"}]}, [("spec.ports[0].port", "FieldValueRequired")]),
    ],
)
def test_services(spec, expected):
    assert fields(validate_object("Service", service(**spec), namespaced=True)) == expected


def test_port_range_message():
    [error] = validate_object("Service", service(ports=[{"port": 70000}]), namespaced=True)
    assert error.message == "Invalid value: 70000: must be between 1 and 65535, inclusive"


def test_pvc_and_ingress():
    pvc: dict[str, Any] = {"metadata": {"name": "data", "namespace": "n"}, "spec": {}}
    assert fields(validate_object("PersistentVolumeClaim", pvc, namespaced=True)) == [
        ("spec.accessModes", "FieldValueRequired"),
        ("spec.resources[storage]", "FieldValueRequired"),
    ]
    pvc["spec"] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    assert validate_object("PersistentVolumeClaim", pvc, namespaced=True) == []
    ingress: dict[str, Any] = {"metadata": {"name": "i", "namespace": "n"}, "spec": {}}
    assert fields(validate_object("Ingress", ingress, namespaced=True)) == [
        ("spec", "FieldValueInvalid")
    ]
    ingress["spec"] = {"rules": [{"host": "a.example"}]}
    assert validate_object("Ingress", ingress, namespaced=True) == []


def test_finalizers_and_owner_references():
    obj: dict[str, Any] = {
        "metadata": {
            "name": "a",
            "namespace": "n",
            "finalizers": ["kubernetes", "workload.kcp.io/syncer", "mine", "bad/fin/alizer"],
            "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": ""}],
        }
    }
    assert fields(validate_object("ConfigMap", obj, namespaced=True)) == [
        ("metadata.finalizers[2]", "FieldValueInvalid"),
        ("metadata.finalizers[3]", "FieldValueInvalid"),
        ("metadata.ownerReferences.uid", "FieldValueInvalid"),
    ]


def test_unknown_kinds_get_the_metadata_rules_only():
    obj: dict[str, Any] = {"metadata": {"name": "x", "namespace": "n"}, "spec": {"anything": [1]}}
    assert validate_object("Widget", obj, namespaced=True) == []
    broken = copy.deepcopy(obj)
    broken["metadata"]["labels"] = {"a": "b c"}
    assert fields(validate_object("Widget", broken, namespaced=True)) == [
        ("metadata.labels", "FieldValueInvalid")
    ]


def test_wrong_shapes_are_reported_not_raised():
    assert fields(validate_object("ConfigMap", {"metadata": "x"}, namespaced=True)) == [
        ("metadata", "FieldValueTypeInvalid")
    ]
    obj: dict[str, Any] = {
        "metadata": {"name": "a", "namespace": "n", "labels": ["x"]},
        "data": "y",
    }
    assert fields(validate_object("ConfigMap", obj, namespaced=True)) == [
        ("metadata.labels", "FieldValueTypeInvalid"),
        ("data", "FieldValueTypeInvalid"),
    ]
    obj = {"metadata": {"name": 5, "namespace": "n"}}
    assert fields(validate_object("ConfigMap", obj, namespaced=True)) == [
        ("metadata.name", "FieldValueTypeInvalid")
    ]


def crd() -> dict[str, Any]:
    return {
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"plural": "widgets", "kind": "Widget"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object"}},
                }
            ],
        },
    }


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda c: None, []),
        (lambda c: c["metadata"].update(name="widgets"), [("metadata.name", "FieldValueInvalid")]),
        (
            lambda c: c["spec"].update(group="example"),
            [("spec.group", "FieldValueInvalid"), ("metadata.name", "FieldValueInvalid")],
        ),
        (
            lambda c: c["spec"].pop("group"),
            [("spec.group", "FieldValueRequired")],
        ),
        (lambda c: c["spec"]["names"].pop("kind"), [("spec.names.kind", "FieldValueRequired")]),
        (lambda c: c["spec"].update(scope="Global"), [("spec.scope", "FieldValueNotSupported")]),
        (
            lambda c: c["spec"]["versions"][0].update(storage=False),
            [("spec.versions", "FieldValueInvalid")],
        ),
        (
            lambda c: c["spec"]["versions"].append(dict(c["spec"]["versions"][0])),
            [
                ("spec.versions[1].name", "FieldValueInvalid"),
                ("spec.versions", "FieldValueInvalid"),
            ],
        ),
        (
            lambda c: c["spec"]["versions"][0].pop("schema"),
            [("spec.versions[0].schema.openAPIV3Schema", "FieldValueRequired")],
        ),
        (lambda c: c["spec"].update(versions=[]), [("spec.versions", "FieldValueRequired")]),
    ],
)
def test_custom_resource_definitions(mutate, expected):
    obj = crd()
    mutate(obj)
    assert fields(validate_object("CustomResourceDefinition", obj, namespaced=False)) == expected


def test_rbac_rules():
    role: dict[str, Any] = {
        "metadata": {"name": "r", "namespace": "n"},
        "rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
            {"resources": ["pods"], "verbs": []},
            {"nonResourceURLs": ["/healthz"], "verbs": ["get"]},
        ],
    }
    assert fields(validate_object("Role", role, namespaced=True)) == [
        ("rules[1].verbs", "FieldValueRequired"),
        ("rules[1].apiGroups", "FieldValueRequired"),
        ("rules[2].nonResourceURLs", "FieldValueInvalid"),
    ]
    cluster_role = {"metadata": {"name": "c"}, "rules": role["rules"][2:]}
    assert validate_object("ClusterRole", cluster_role, namespaced=False) == []
    binding: dict[str, Any] = {
        "metadata": {"name": "b", "namespace": "n"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
        "subjects": [{"kind": "ServiceAccount", "name": "default"}, {"kind": "User", "name": "u"}],
    }
    assert validate_object("RoleBinding", binding, namespaced=True) == []
    cluster_binding = {**binding, "metadata": {"name": "b"}}
    assert fields(validate_object("ClusterRoleBinding", cluster_binding, namespaced=False)) == [
        ("roleRef.kind", "FieldValueNotSupported"),
        ("subjects[0].namespace", "FieldValueRequired"),
    ]
    broken = {
        "metadata": {"name": "b", "namespace": "n"},
        "roleRef": {"kind": "Role"},
        "subjects": [{"kind": "Robot"}],
    }
    assert fields(validate_object("RoleBinding", broken, namespaced=True)) == [
        ("roleRef.apiGroup", "FieldValueNotSupported"),
        ("roleRef.name", "FieldValueRequired"),
        ("subjects[0].kind", "FieldValueNotSupported"),
        ("subjects[0].name", "FieldValueRequired"),
    ]


def test_name_checks_remember_valid_values_only_and_forget_past_their_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The name checks answer a value they found valid from memory (``names._remembering_valid``):
    an invalid value gets its messages every time, whatever was remembered before, and the
    memory starts over at its bound instead of growing with every name a server sees."""
    monkeypatch.setattr(names, "VALID_MEMORY", 3)
    invalid_key = "-bad-"
    expected = [names.QUALIFIED_NAME_MESSAGE]
    assert names.qualified_name_errors(invalid_key) == expected
    for index in range(10):
        assert names.qualified_name_errors(f"example.com/key-{index}") == []
        assert names.qualified_name_errors(invalid_key) == expected
        assert invalid_key not in names.qualified_name_errors.valid
        assert len(names.qualified_name_errors.valid) <= 3
    assert names.qualified_name_errors("a" * 64) == ["name part must be no more than 63 characters"]
    assert names.label_value_errors("x" * 64)[0] == "must be no more than 63 characters"
    assert names.label_value_errors("ok") == names.label_value_errors("ok") == []
    answered = names.dns1123_subdomain_errors("Upper")
    answered.append("changed by a caller")
    assert names.dns1123_subdomain_errors("Upper") == [names.DNS1123_SUBDOMAIN_MESSAGE]
    valid = names.dns1123_label_errors("web")
    valid.append("changed by a caller")
    assert names.dns1123_label_errors("web") == []
