"""Admission plugins per logical cluster: why one real cluster refuses what another accepts.

Real kube-apiservers differ by their ``--enable-admission-plugins``, so an object the upstream
takes can be refused by a target. Each logical cluster here runs its own list of the validating
plugins in ``PLUGINS``, named as Kubernetes names them. They run where the real validating
admission phase runs: on creates and updates (dry runs too), after the object passed
validation, and their refusal is the real plugin's Status.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pytest_syncer.apiserver.api import errors
from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.resources import ResourceType

ADMISSION_FILE = "admission.json"
"""Where a data dir keeps each cluster's plugins, so a restart enforces the same ones."""


class Operation(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"


@dataclass(frozen=True)
class AdmissionRequest:
    """One write as a plugin sees it: the object about to be stored and, on update, the old."""

    operation: Operation
    resource_type: ResourceType
    subresource: str
    obj: Mapping[str, Any]
    old: Mapping[str, Any] | None = None

    @property
    def name(self) -> str:
        return str((self.obj.get("metadata") or {}).get("name") or "")

    def is_resource(self, group: str, resource: str) -> bool:
        return self.resource_type.group == group and self.resource_type.resource == resource

    def forbidden(self, cause: str) -> APIError:
        kind = self.resource_type
        return errors.forbidden(kind.resource, self.name, cause, kind.group)


ValidatingPlugin = Callable[[AdmissionRequest], APIError | None]
"""A plugin answers the refusal for a request it denies and ``None`` for one it lets through."""


def _external_ips(obj: Mapping[str, Any] | None) -> list[Any]:
    spec = (obj or {}).get("spec")
    ips = spec.get("externalIPs") if isinstance(spec, Mapping) else None
    return ips if isinstance(ips, list) else []


def deny_service_external_ips(request: AdmissionRequest) -> APIError | None:
    """No new use of a Service's ``spec.externalIPs``: none on create, no added address on
    update; addresses a Service already has may stay or go (CVE-2020-8554's mitigation)."""
    if not request.is_resource("", "services") or request.subresource:
        return None
    new = _external_ips(request.obj)
    if not new:
        return None
    old = _external_ips(request.old)
    if all(ip in old for ip in new):
        return None
    return request.forbidden("Use of external IPs is denied by admission control")


PLUGINS: dict[str, ValidatingPlugin] = {
    "DenyServiceExternalIPs": deny_service_external_ips,
}


class UnknownAdmissionPluginError(ValueError):
    def __init__(self, name: str) -> None:
        known = ", ".join(sorted(PLUGINS))
        super().__init__(f"unknown admission plugin {name!r}; known: {known}")


def plugin_names(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` in order without repeats; an unknown name is an error naming the known ones."""
    found = tuple(dict.fromkeys(names))
    for name in found:
        if name not in PLUGINS:
            raise UnknownAdmissionPluginError(name)
    return found


class ClusterAdmission:
    """Which plugins each logical cluster runs (none unless enabled) and running them."""

    def __init__(self) -> None:
        self._enabled: dict[str, tuple[str, ...]] = {}

    def enable(self, cluster: str, names: Iterable[str]) -> None:
        """Run exactly ``names`` in ``cluster`` from now on; an empty list turns them off."""
        found = plugin_names(names)
        if found:
            self._enabled[cluster] = found
        else:
            self._enabled.pop(cluster, None)

    def plugins(self, cluster: str) -> tuple[str, ...]:
        return self._enabled.get(cluster, ())

    def enabled(self) -> dict[str, list[str]]:
        """Every cluster that runs a plugin, with its plugins in order."""
        return {cluster: list(names) for cluster, names in self._enabled.items()}

    def admit(self, cluster: str, request: AdmissionRequest) -> None:
        """Raise the first refusal of ``cluster``'s plugins, in their order."""
        for name in self._enabled.get(cluster, ()):
            refusal = PLUGINS[name](request)
            if refusal is not None:
                raise refusal

    def load(self, path: Path) -> None:
        """Enable what ``path`` (written by ``save``) records, when it exists."""
        if not path.exists():
            return
        document = json.loads(path.read_text())
        for cluster, names in dict(document["clusters"]).items():
            self.enable(cluster, names)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"clusters": self.enabled()}, indent=2) + "\n")
