"""Services: ready at once, except a LoadBalancer, which waits for its address.

The allocated fields (cluster IPs, node ports) are the transform's business: it drops them on
the way down, and drift never compares them because the syncer does not send them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_syncer.syncer.handlers.base import KindHandler
from pytest_syncer.syncer.handlers.readiness import has_load_balancer_address, spec_of


def service_ready(obj: Mapping[str, Any]) -> bool:
    if spec_of(obj).get("type") == "LoadBalancer":
        return has_load_balancer_address(obj)
    return True


HANDLER = KindHandler("v1", "Service", "services", service_ready)
