"""Discovery documents (``/version``, ``/api``, ``/apis``, group-version resource lists).

Clients cache these, and the Python DynamicClient compares ``preferredVersion`` to the entries
of ``versions`` as whole dicts, so the preferred entry is built by the same function as the
others. Aggregated discovery (``as=APIGroupDiscoveryList``) is not served: the plain documents
come back as ``application/json``, and client-go falls back to reading them.
"""

from __future__ import annotations

from typing import Any

from pytest_syncer.apiserver.api.resources import ResourceRegistry, ResourceType

KUBERNETES_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-12-11T00:00:00Z",
    "goVersion": "go1.23.4",
    "compiler": "gc",
    "platform": "linux/amd64",
}

SUBRESOURCE_VERBS = ("get", "patch", "update")


def version_document() -> dict[str, Any]:
    return dict(KUBERNETES_VERSION)


def core_versions_document() -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [],
    }


def _group_version_entry(group: str, version: str) -> dict[str, str]:
    return {"groupVersion": f"{group}/{version}", "version": version}


def group_document(group: str, versions: list[str]) -> dict[str, Any]:
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": [_group_version_entry(group, version) for version in versions],
        "preferredVersion": _group_version_entry(group, versions[0]),
    }


def group_list_document(registry: ResourceRegistry, cluster: str | None = None) -> dict[str, Any]:
    """Every group ``cluster`` serves (its CustomResourceDefinitions' groups included)."""
    groups = []
    for group, versions in sorted(registry.groups(cluster).items()):
        document = group_document(group, versions)
        del document["kind"], document["apiVersion"]
        groups.append(document)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _resource_entries(resource_type: ResourceType) -> list[dict[str, Any]]:
    entry: dict[str, Any] = {
        "name": resource_type.resource,
        "singularName": resource_type.singular_name,
        "namespaced": resource_type.namespaced,
        "kind": resource_type.kind,
        "verbs": list(resource_type.verbs),
    }
    if resource_type.short_names:
        entry["shortNames"] = list(resource_type.short_names)
    if resource_type.categories:
        entry["categories"] = list(resource_type.categories)
    entries = [entry]
    for subresource in resource_type.subresources:
        sub_entry: dict[str, Any] = {
            "name": f"{resource_type.resource}/{subresource}",
            "singularName": "",
            "namespaced": resource_type.namespaced,
            "kind": resource_type.kind,
            "verbs": list(SUBRESOURCE_VERBS),
        }
        if subresource == "scale":
            sub_entry.update(group="autoscaling", version="v1", kind="Scale")
        entries.append(sub_entry)
    return entries


def resource_list_document(
    registry: ResourceRegistry, group: str, version: str, cluster: str | None = None
) -> dict[str, Any]:
    group_version = f"{group}/{version}" if group else version
    resources: list[dict[str, Any]] = []
    for resource_type in registry.in_group_version(group, version, cluster):
        resources.extend(_resource_entries(resource_type))
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }
