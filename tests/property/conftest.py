"""Hypothesis profiles and a fast Kubernetes 1.32 schema check for the property suites.

Profiles are registered, not loaded: pick one with `pytest --hypothesis-profile ci` (fewer,
derandomized examples) or `--hypothesis-profile thorough` (many more).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

import jsonschema  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, settings
from kubernetes_validate.utils import schema_contents
from referencing import Registry, Resource

settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("thorough", max_examples=2000, deadline=None)

TestT = TypeVar("TestT", bound=Callable[..., None])


def large_objects(test: TestT) -> TestT:
    """Settings for tests that draw whole objects: half the active profile's examples, no
    deadline, no too-slow check (drawing a Deployment takes a while on a loaded 2-core machine,
    and speed is not what these tests are about). Applied at collection, after pytest loaded
    the `--hypothesis-profile`."""
    examples = max(10, settings().max_examples // 2)
    large = settings(
        deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=examples
    )
    return large(test)


KUBERNETES_VERSION = "1.32.0"
_SCHEMA_DIR = "kubernetes-json-schema/v1.32.0-local-strict"


@cache
def _definitions() -> Resource[Any]:
    return Resource.from_contents(
        schema_contents(f"{_SCHEMA_DIR}/_definitions.json", KUBERNETES_VERSION)
    )


@cache
def _validator(api_version: str, kind: str) -> Any:
    """The same schema file kubernetes_validate.validate(strict=True) picks, loaded once."""
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = schema_contents(
        f"{_SCHEMA_DIR}/{kind.lower()}-{group_version}.json", KUBERNETES_VERSION
    )
    registry = _definitions() @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def validate_kubernetes_object(obj: dict[str, Any]) -> None:
    """Raise `jsonschema.ValidationError` unless `obj` is valid for Kubernetes 1.32 (strict)."""
    _validator(obj["apiVersion"], obj["kind"]).validate(obj)


@pytest.fixture(scope="session")
def k8s_validate() -> Callable[[dict[str, Any]], None]:
    return validate_kubernetes_object
