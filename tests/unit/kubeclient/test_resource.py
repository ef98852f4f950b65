"""`Resource.referred_to`: the resource of the object a reference names, core group or not."""

from __future__ import annotations

import pytest

from pytest_syncer.contract.objects import ObjectReference
from pytest_syncer.kubeclient.client import Resource


@pytest.mark.parametrize(
    ("api_version", "kind", "resource", "expected", "qualified_name"),
    [
        (
            "v1",
            "ConfigMap",
            "configmaps",
            Resource("", "v1", "configmaps", "ConfigMap"),
            "configmaps",
        ),
        (
            "apps/v1",
            "Deployment",
            "deployments",
            Resource("apps", "v1", "deployments", "Deployment"),
            "deployments.apps",
        ),
        (
            "example.com/v1beta1",
            "Widget",
            "widgets",
            Resource("example.com", "v1beta1", "widgets", "Widget"),
            "widgets.example.com",
        ),
    ],
)
def test_a_reference_names_its_resource(
    api_version: str, kind: str, resource: str, expected: Resource, qualified_name: str
) -> None:
    reference = ObjectReference(api_version, kind, resource, "web", "default", "uid-1")
    found = Resource.referred_to(reference)
    assert found == expected
    assert found.qualified_name == qualified_name
    assert found.api_version == api_version
