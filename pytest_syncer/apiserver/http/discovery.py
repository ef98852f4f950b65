"""Discovery documents (``/version``, ``/api``, ``/apis``, group-version resource lists).

Clients cache these, and the Python DynamicClient compares ``preferredVersion`` to the entries
of ``versions`` as whole dicts, so the preferred entry is built by the same function as the
others. Aggregated discovery (``apidiscovery.k8s.io`` ``v2`` or ``v2beta1``
``APIGroupDiscoveryList``, what client-go 1.26+ asks ``/api`` and ``/apis`` for first) holds
every group, version and resource in one document, in JSON (its protobuf form is not served:
client-go's Accept lists JSON after it).
"""

from __future__ import annotations

from typing import Any

from pytest_syncer.apiserver.api.resources import (
    SUBRESOURCE_KINDS,
    ResourceRegistry,
    ResourceType,
    subresource_verbs,
)

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
            "verbs": list(subresource_verbs(subresource)),
        }
        if subresource in SUBRESOURCE_KINDS:
            group, version, kind = SUBRESOURCE_KINDS[subresource]
            sub_entry.update(group=group, version=version, kind=kind)
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


AGGREGATED_GROUP = "apidiscovery.k8s.io"
AGGREGATED_VERSIONS = ("v2", "v2beta1")
AGGREGATED_KIND = "APIGroupDiscoveryList"


def aggregated_version(accept: str) -> str | None:
    """The aggregated discovery version the Accept header picks before plain JSON, if any.

    Media ranges are taken in the order given (client-go orders them by preference); a JSON
    ``as=APIGroupDiscoveryList`` of a version served here wins, anything else that is JSON or a
    wildcard means the plain documents."""
    for media_range in accept.split(","):
        media_type, *parameters = (part.strip() for part in media_range.split(";"))
        options = dict(p.partition("=")[::2] for p in parameters)
        if options.get("q") == "0":
            continue
        if options.get("as") == AGGREGATED_KIND:
            version = options.get("v")
            is_json = media_type == "application/json" and options.get("g") == AGGREGATED_GROUP
            if is_json and version in AGGREGATED_VERSIONS:
                return version
            continue
        if media_type in ("application/json", "*/*", "application/*"):
            return None
    return None


def aggregated_content_type(version: str) -> str:
    return f"application/json;g={AGGREGATED_GROUP};v={version};as={AGGREGATED_KIND}"


def _aggregated_resource(resource_type: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": resource_type.resource,
        "responseKind": {
            "group": resource_type.group,
            "version": resource_type.version,
            "kind": resource_type.kind,
        },
        "scope": "Namespaced" if resource_type.namespaced else "Cluster",
        "singularResource": resource_type.singular_name,
        "verbs": list(resource_type.verbs),
    }
    if resource_type.short_names:
        entry["shortNames"] = list(resource_type.short_names)
    if resource_type.categories:
        entry["categories"] = list(resource_type.categories)
    subresources = []
    for subresource in resource_type.subresources:
        group, version, kind = SUBRESOURCE_KINDS.get(
            subresource, (resource_type.group, resource_type.version, resource_type.kind)
        )
        subresources.append(
            {
                "subresource": subresource,
                "responseKind": {"group": group, "version": version, "kind": kind},
                "verbs": list(subresource_verbs(subresource)),
            }
        )
    if subresources:
        entry["subresources"] = subresources
    return entry


def aggregated_document(
    registry: ResourceRegistry, version: str, core: bool, cluster: str | None = None
) -> dict[str, Any]:
    """``/api`` (``core``) or ``/apis`` as one ``APIGroupDiscoveryList`` of ``version``."""
    groups = {"": ["v1"]} if core else dict(sorted(registry.groups(cluster).items()))
    items = []
    for group, versions in groups.items():
        items.append(
            {
                "metadata": {"name": group, "creationTimestamp": None},
                "versions": [
                    {
                        "version": group_version,
                        "resources": [
                            _aggregated_resource(t)
                            for t in registry.in_group_version(group, group_version, cluster)
                        ],
                        "freshness": "Current",
                    }
                    for group_version in versions
                ],
            }
        )
    return {
        "kind": AGGREGATED_KIND,
        "apiVersion": f"{AGGREGATED_GROUP}/{version}",
        "metadata": {},
        "items": items,
    }
