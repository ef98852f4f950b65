"""Discovery documents built from the type table."""

from __future__ import annotations

from pytest_syncer.apiserver.api.resources import BUILTIN_TYPES, ResourceRegistry, ResourceType
from pytest_syncer.apiserver.http.discovery import group_list_document, resource_list_document


def test_preferred_version_is_one_of_the_versions() -> None:
    registry = ResourceRegistry.builtin()
    registry.register(ResourceType("apps", "v1beta1", "things", "Thing", True))
    for group in group_list_document(registry)["groups"]:
        assert group["preferredVersion"] in group["versions"]
        assert group["preferredVersion"] == group["versions"][0]


def test_every_builtin_type_and_subresource_is_listed() -> None:
    registry = ResourceRegistry.builtin()
    for resource_type in BUILTIN_TYPES:
        document = resource_list_document(registry, resource_type.group, resource_type.version)
        names = {entry["name"]: entry for entry in document["resources"]}
        assert names[resource_type.resource]["kind"] == resource_type.kind
        assert names[resource_type.resource]["namespaced"] == resource_type.namespaced
        for subresource in resource_type.subresources:
            assert names[f"{resource_type.resource}/{subresource}"]["verbs"] == [
                "get",
                "patch",
                "update",
            ]


def test_types_can_be_added_at_run_time() -> None:
    registry = ResourceRegistry.builtin()
    registry.register(
        ResourceType("example.com", "v1", "widgets", "Widget", True, subresources=("status",))
    )
    assert registry.lookup("example.com", "v1", "widgets") is not None
    assert "example.com" in {g["name"] for g in group_list_document(registry)["groups"]}
