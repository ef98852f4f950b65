"""Admission plugins: DenyServiceExternalIPs's rule, the per-cluster choice, and the write paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.apiserver.api.admission import (
    AdmissionRequest,
    ClusterAdmission,
    Operation,
    UnknownAdmissionPluginError,
    deny_service_external_ips,
    plugin_names,
)
from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.object_api import ObjectAPI
from pytest_syncer.apiserver.api.resources import ResourcePath, ResourceRegistry, ResourceType
from pytest_syncer.apiserver.api.write_options import WriteOptions
from pytest_syncer.apiserver.server import EmbeddedAPIServer
from pytest_syncer.apiserver.store.memory import MemoryStore

REGISTRY = ResourceRegistry.builtin()
SERVICES = REGISTRY.require("", "v1", "services")
NAMESPACES = REGISTRY.require("", "v1", "namespaces")
DENIED = "Use of external IPs is denied by admission control"
PLUGIN = "DenyServiceExternalIPs"
ADDRESSES = st.lists(st.sampled_from(["192.0.2.1", "192.0.2.2", "198.51.100.7", "::1"]))


def service(name: str = "web", external_ips: list[str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"ports": [{"port": 80}]}
    if external_ips is not None:
        spec["externalIPs"] = external_ips
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


def request(
    obj: dict[str, Any],
    old: dict[str, Any] | None = None,
    *,
    subresource: str = "",
    resource_type: ResourceType = SERVICES,
) -> AdmissionRequest:
    operation = Operation.CREATE if old is None else Operation.UPDATE
    return AdmissionRequest(operation, resource_type, subresource, obj, old)


def test_a_new_service_with_external_ips_is_forbidden_as_the_real_plugin_says() -> None:
    refusal = deny_service_external_ips(request(service(external_ips=["192.0.2.1"])))
    assert refusal is not None
    assert refusal.to_status() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'services "web" is forbidden: {DENIED}',
        "reason": "Forbidden",
        "code": 403,
        "details": {"name": "web", "kind": "services"},
    }


def test_an_unnamed_service_is_forbidden_without_a_name() -> None:
    body = service(external_ips=["192.0.2.1"])
    del body["metadata"]["name"]
    refusal = deny_service_external_ips(request(body))
    assert refusal is not None
    assert refusal.message == f"services is forbidden: {DENIED}"
    assert "name" not in refusal.to_status()["details"]


@pytest.mark.parametrize("external_ips", [None, []], ids=["absent", "empty"])
def test_a_service_without_external_ips_passes(external_ips: list[str] | None) -> None:
    assert deny_service_external_ips(request(service(external_ips=external_ips))) is None


@given(old=ADDRESSES, new=ADDRESSES)
def test_an_update_is_refused_exactly_when_it_adds_an_address(
    old: list[str], new: list[str]
) -> None:
    refusal = deny_service_external_ips(
        request(service(external_ips=new), service(external_ips=old))
    )
    assert (refusal is not None) == bool(set(new) - set(old))


def test_status_writes_and_other_resources_are_not_its_business() -> None:
    with_ips = service(external_ips=["192.0.2.1"])
    assert deny_service_external_ips(request(with_ips, service(), subresource="status")) is None
    lookalike = ResourceType("example.com", "v1", "services", "Service", namespaced=True)
    assert deny_service_external_ips(request(with_ips, resource_type=lookalike)) is None


def test_plugin_names_keep_order_drop_repeats_and_refuse_unknown_names() -> None:
    assert plugin_names([PLUGIN, PLUGIN]) == (PLUGIN,)
    with pytest.raises(UnknownAdmissionPluginError) as raised:
        plugin_names([PLUGIN, "AlwaysDeny"])
    assert str(raised.value) == f"unknown admission plugin 'AlwaysDeny'; known: {PLUGIN}"


def test_each_cluster_runs_its_own_plugins(tmp_path: Path) -> None:
    admission = ClusterAdmission()
    admission.enable("strict", [PLUGIN])
    refused = request(service(external_ips=["192.0.2.1"]))
    with pytest.raises(APIError) as raised:
        admission.admit("strict", refused)
    assert raised.value.code == 403
    admission.admit("open", refused)
    assert admission.plugins("strict") == (PLUGIN,)
    assert admission.plugins("open") == ()

    admission.save(tmp_path / "admission.json")
    restored = ClusterAdmission()
    restored.load(tmp_path / "admission.json")
    assert restored.enabled() == {"strict": [PLUGIN]}
    restored.enable("strict", [])
    assert restored.enabled() == {}
    restored.admit("strict", refused)
    with pytest.raises(UnknownAdmissionPluginError):
        restored.enable("strict", ["NoSuchPlugin"])
    assert restored.enabled() == {}


def test_loading_without_a_file_enables_nothing(tmp_path: Path) -> None:
    admission = ClusterAdmission()
    admission.load(tmp_path / "absent.json")
    assert admission.enabled() == {}


@pytest.fixture
def api() -> ObjectAPI:
    api = ObjectAPI(MemoryStore(), REGISTRY)
    for cluster in ("strict", "open"):
        api.create(ResourcePath(cluster, NAMESPACES, None), {"metadata": {"name": "ns"}})
    api.admission.enable("strict", [PLUGIN])
    return api


def services_in(cluster: str, name: str | None = None) -> ResourcePath:
    return ResourcePath(cluster, SERVICES, "ns", name)


def test_creates_and_dry_runs_in_the_denying_cluster_are_refused(api: ObjectAPI) -> None:
    body = service(external_ips=["192.0.2.1"])
    for options in (WriteOptions(), WriteOptions(dry_run=True)):
        with pytest.raises(APIError) as raised:
            api.create(services_in("strict"), body, options)
        assert raised.value.message == f'services "web" is forbidden: {DENIED}'
    assert api.store.list_objects(SERVICES.key, "strict", "ns") == []
    created = api.create(services_in("open"), body)
    assert created["spec"]["externalIPs"] == ["192.0.2.1"]
    api.create(services_in("strict"), service())


def test_updates_and_patches_may_keep_or_drop_addresses_but_not_add_one(api: ObjectAPI) -> None:
    api.admission.enable("strict", [])
    api.create(services_in("strict"), service(external_ips=["192.0.2.1", "192.0.2.2"]))
    api.admission.enable("strict", [PLUGIN])
    path = services_in("strict", "web")

    kept = api.get(path)
    kept["metadata"]["labels"] = {"kept": "yes"}
    api.update(path, kept)
    with pytest.raises(APIError) as raised:
        api.patch(path, "application/merge-patch+json", {"spec": {"externalIPs": ["192.0.2.9"]}})
    assert raised.value.code == 403
    dropped = api.patch(
        path, "application/merge-patch+json", {"spec": {"externalIPs": ["192.0.2.2"]}}
    )
    assert dropped["spec"]["externalIPs"] == ["192.0.2.2"]
    assert dropped["metadata"]["labels"] == {"kept": "yes"}


async def test_the_server_refuses_unknown_plugins_and_unserved_clusters(tmp_path: Path) -> None:
    with pytest.raises(UnknownAdmissionPluginError):
        EmbeddedAPIServer(["a"], tmp_path, admission_plugins={"a": ["NoSuchPlugin"]})
    server = EmbeddedAPIServer(["a"], tmp_path, admission_plugins={"b": [PLUGIN]})
    with pytest.raises(ValueError, match="admission plugins for clusters that are not served: b"):
        await server.start()
    assert server.admission_plugins == {}
