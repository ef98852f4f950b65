"""Reading `--syncer-crds`: which CRDs, which `--resources`, which kinds; bad files say why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_syncer.contract.resources import DEFAULT_RESOURCES
from pytest_syncer.harness.custom_resources import (
    CustomResourceError,
    load_crds,
    syncer_resources,
)
from pytest_syncer.harness.kube import Kind

SAMPLE = Path(__file__).parents[3] / "fixtures" / "crds" / "workloads"


def crd(plural: str, kind: str, *, scope: str = "Namespaced", versions: Any = None) -> Any:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.example.com"},
        "spec": {
            "group": "example.com",
            "scope": scope,
            "names": {"plural": plural, "kind": kind},
            "versions": versions or [{"name": "v1", "served": True, "storage": True}],
        },
    }


def write(path: Path, *documents: Any) -> Path:
    path.write_text(yaml.safe_dump_all(documents))
    return path


def test_the_project_sample_is_a_namespaced_widget() -> None:
    [widgets] = load_crds([SAMPLE])
    assert (widgets.resource, widgets.kind, widgets.namespaced) == (
        "widgets.example.com",
        "Widget",
        True,
    )
    assert widgets.kinds() == [Kind("example.com/v1", "Widget", "widgets")]


def test_a_folder_gives_its_manifests_in_name_order_and_a_file_may_hold_several(
    tmp_path: Path,
) -> None:
    write(tmp_path / "b.yaml", crd("gadgets", "Gadget"), crd("sprockets", "Sprocket"))
    write(tmp_path / "a.yml", crd("widgets", "Widget"))
    (tmp_path / "notes.txt").write_text("not a manifest")
    (tmp_path / "nested").mkdir()
    write(tmp_path / "nested" / "c.yaml", crd("cogs", "Cog"))
    loaded = [found.resource for found in load_crds([tmp_path])]
    assert loaded == ["widgets.example.com", "gadgets.example.com", "sprockets.example.com"]


def test_resources_are_the_built_in_kinds_and_the_namespaced_custom_ones(tmp_path: Path) -> None:
    path = write(
        tmp_path / "crds.yaml",
        crd("widgets", "Widget"),
        crd("cogs", "Cog", scope="Cluster"),
    )
    crds = load_crds([path])
    assert [found.resource for found in crds] == ["widgets.example.com", "cogs.example.com"]
    assert syncer_resources(crds) == (*DEFAULT_RESOURCES, "widgets.example.com")
    assert syncer_resources([]) == DEFAULT_RESOURCES


def test_every_served_version_is_a_kind(tmp_path: Path) -> None:
    versions = [
        {"name": "v1", "served": True, "storage": True},
        {"name": "v1beta1", "served": True, "storage": False},
        {"name": "v1alpha1", "served": False, "storage": False},
    ]
    [found] = load_crds([write(tmp_path / "w.yaml", crd("widgets", "Widget", versions=versions))])
    assert [kind.api_version for kind in found.kinds()] == ["example.com/v1", "example.com/v1beta1"]


@pytest.mark.parametrize(
    ("documents", "message"),
    [
        (
            [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}],
            r"x\.yaml: apps/v1/Deployment is not a CustomResourceDefinition",
        ),
        (
            [{**crd("widgets", "Widget"), "spec": {"group": "example.com"}}],
            r"CRD widgets\.example\.com lacks spec\.names\.plural, spec\.names\.kind, "
            r"spec\.versions",
        ),
        (
            [crd("widgets", "Widget"), crd("widgets", "Widget")],
            r"widgets\.example\.com is defined again \(first in .*x\.yaml\)",
        ),
        (["just text"], r"x\.yaml: expected a mapping, not str"),
    ],
)
def test_a_bad_file_says_which_and_why(tmp_path: Path, documents: list[Any], message: str) -> None:
    path = write(tmp_path / "x.yaml", *documents)
    with pytest.raises(CustomResourceError, match=message):
        load_crds([path])


def test_unreadable_yaml_and_an_empty_folder_are_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("spec: [unclosed")
    with pytest.raises(CustomResourceError, match=r"cannot read .*broken\.yaml"):
        load_crds([broken])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CustomResourceError, match=r"empty: no CRD manifests"):
        load_crds([empty])
