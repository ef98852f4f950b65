"""Custom resources under test: the CRDs `--syncer-crds` names, installed upstream and on every
target's cluster before the syncers start, and the `--resources` the syncers are then told.

A syncer syncs a custom resource only when its CRD is served on both sides and it is named in
`--resources`; the harness does both, so a test places a custom resource as any other kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from pytest_syncer.contract.resources import DEFAULT_RESOURCES
from pytest_syncer.harness.clusters.kubeconfig import install
from pytest_syncer.harness.kube import Cluster, Kind, KubeObject, register_kinds
from pytest_syncer.harness.waiting import wait_until

CRD_API_VERSION = "apiextensions.k8s.io/v1"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


class CustomResourceError(ValueError):
    """A `--syncer-crds` file the harness cannot use; says which file and why."""


@dataclass(frozen=True)
class CustomResource:
    """One CRD: where it came from and the resource it serves."""

    source: Path
    manifest: KubeObject

    @property
    def group(self) -> str:
        return str(self.manifest["spec"]["group"])

    @property
    def plural(self) -> str:
        return str(self.manifest["spec"]["names"]["plural"])

    @property
    def kind(self) -> str:
        return str(self.manifest["spec"]["names"]["kind"])

    @property
    def namespaced(self) -> bool:
        return bool(self.manifest["spec"].get("scope", "Namespaced") == "Namespaced")

    @property
    def resource(self) -> str:
        """`<plural>.<group>`: the form `--resources` takes."""
        return f"{self.plural}.{self.group}"

    def kinds(self) -> list[Kind]:
        """One per served version, so a manifest may use any of them."""
        return [
            Kind(f"{self.group}/{version['name']}", self.kind, self.plural, self.namespaced)
            for version in self.manifest["spec"]["versions"]
            if version.get("served", True)
        ]


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix in MANIFEST_SUFFIXES)
        if not found:
            raise CustomResourceError(f"{path}: no CRD manifests (*.yaml, *.yml, *.json)")
        return found
    return [path]


def _checked(source: Path, obj: Any) -> CustomResource:
    if not isinstance(obj, dict):
        raise CustomResourceError(f"{source}: expected a mapping, not {type(obj).__name__}")
    what = f"{obj.get('apiVersion')}/{obj.get('kind')}"
    if (obj.get("apiVersion"), obj.get("kind")) != (CRD_API_VERSION, "CustomResourceDefinition"):
        raise CustomResourceError(
            f"{source}: {what} is not a CustomResourceDefinition ({CRD_API_VERSION})"
        )
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    missing = [
        field
        for field, value in (
            ("spec.group", spec.get("group")),
            ("spec.names.plural", names.get("plural")),
            ("spec.names.kind", names.get("kind")),
            ("spec.versions", spec.get("versions")),
        )
        if not value
    ]
    if missing:
        name = (obj.get("metadata") or {}).get("name", "?")
        raise CustomResourceError(f"{source}: CRD {name} lacks {', '.join(missing)}")
    return CustomResource(source, obj)


def load_crds(paths: Sequence[Path]) -> list[CustomResource]:
    """Every CRD in these files and folders (a folder: its manifests, not its subfolders)."""
    crds: dict[str, CustomResource] = {}
    for path in paths:
        for source in _files(path):
            try:
                documents = [doc for doc in yaml.safe_load_all(source.read_text()) if doc]
            except (OSError, yaml.YAMLError) as error:
                raise CustomResourceError(f"cannot read {source}: {error}") from None
            for obj in documents:
                crd = _checked(source, obj)
                if crd.resource in crds:
                    raise CustomResourceError(
                        f"{source}: {crd.resource} is defined again "
                        f"(first in {crds[crd.resource].source})"
                    )
                crds[crd.resource] = crd
    return list(crds.values())


def syncer_resources(crds: Iterable[CustomResource]) -> tuple[str, ...]:
    """The syncers' `--resources`: every built-in kind and each namespaced custom resource
    (a cluster-scoped CRD is installed, but never synced)."""
    custom = [crd.resource for crd in crds if crd.namespaced]
    return (*DEFAULT_RESOURCES, *(name for name in custom if name not in DEFAULT_RESOURCES))


def install_crds(cluster: Cluster, crds: Sequence[CustomResource], timeout: float) -> None:
    """Create the CRDs (what exists is left as it is) and wait until the cluster serves each."""
    install(cluster, sorted({crd.source for crd in crds}))
    for crd in crds:
        wait_until(
            partial(cluster.list, crd.kinds()[0]),
            lambda _: True,
            what=f"{crd.resource} served on {cluster.name}",
            timeout=timeout,
            interval=0.1,
        )


def learn_kinds(crds: Iterable[CustomResource]) -> None:
    """The harness's clients and `workload` factory know these kinds from now on."""
    register_kinds(kind for crd in crds for kind in crd.kinds())
