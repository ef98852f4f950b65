"""Rules for the ``networking.k8s.io`` group: Ingress.

As ``pkg/apis/networking/validation/validation.go`` in Kubernetes checks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_syncer.apiserver.api.validation.field_errors import FieldError, invalid
from pytest_syncer.apiserver.api.validation.rules import RuleContext, mapping_of


def ingress_rule(obj: Mapping[str, Any], context: RuleContext) -> list[FieldError]:
    """An Ingress routes somewhere: a default backend or at least one rule."""
    spec = mapping_of(obj.get("spec"))
    if spec.get("defaultBackend") or spec.get("rules"):
        return []
    return [invalid("spec", dict(spec), "either `defaultBackend` or `rules` must be specified")]
