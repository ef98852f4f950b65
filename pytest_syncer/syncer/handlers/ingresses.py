"""Ingresses: ready once an ingress controller below published an address for them.

A cluster without an ingress controller never publishes one, and then the Ingress is not
ready: routing is what an Ingress is for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_syncer.syncer.handlers.base import KindHandler
from pytest_syncer.syncer.handlers.readiness import has_load_balancer_address


def ingress_ready(obj: Mapping[str, Any]) -> bool:
    return has_load_balancer_address(obj)


HANDLER = KindHandler("networking.k8s.io/v1", "Ingress", "ingresses", ingress_ready)
