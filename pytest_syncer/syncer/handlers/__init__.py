"""Per-kind knowledge: what is spec, what status goes up, when an object is ready.

    handler = handler_for("apps", "deployments")
    below = handler.to_downstream(upstream_obj, context)
    handler.is_ready(downstream_obj)

A (group, resource) without a built-in handler gets the generic one for custom resources.
"""

from __future__ import annotations

from pytest_syncer.syncer.handlers import (
    configmaps,
    cronjobs,
    daemonsets,
    deployments,
    ingresses,
    jobs,
    persistentvolumeclaims,
    replicasets,
    secrets,
    services,
    statefulsets,
)
from pytest_syncer.syncer.handlers.base import KindHandler
from pytest_syncer.syncer.handlers.custom import custom_handler

HANDLERS: tuple[KindHandler, ...] = (
    deployments.HANDLER,
    statefulsets.HANDLER,
    daemonsets.HANDLER,
    replicasets.HANDLER,
    jobs.HANDLER,
    cronjobs.HANDLER,
    services.HANDLER,
    configmaps.HANDLER,
    secrets.HANDLER,
    ingresses.HANDLER,
    persistentvolumeclaims.HANDLER,
)
"""The built-in handlers, one per kind."""

_BY_RESOURCE = {(handler.group, handler.resource): handler for handler in HANDLERS}
_CORE_GROUP_NAMES = ("", "core")


def handler_for(group: str, resource: str, *, version: str = "", kind: str = "") -> KindHandler:
    """The built-in handler of `resource.group`, else the generic custom-resource one.

    The core group is `""` (`"core"` is accepted too). `version` and `kind` name a custom
    resource's type in the handler it gets; built-in handlers ignore them.
    """
    normal_group = "" if group in _CORE_GROUP_NAMES else group
    found = _BY_RESOURCE.get((normal_group, resource))
    if found is not None:
        return found
    return custom_handler(normal_group, resource, version=version, kind=kind)


__all__ = ["HANDLERS", "KindHandler", "custom_handler", "handler_for"]
