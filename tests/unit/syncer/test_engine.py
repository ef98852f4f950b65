"""The engine's pure parts: allocated fields, targets files, arguments, Events, verdicts."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.contract.objects import SyncPhase
from pytest_syncer.contract.resources import DEFAULT_RESOURCES
from pytest_syncer.syncer.command import (
    TargetsFileError,
    build_parser,
    load_targets_file,
    settings_from_arguments,
    targets_from_arguments,
)
from pytest_syncer.syncer.engine.allocated import ALLOCATED_SPEC_FIELDS, carry_allocated_fields
from pytest_syncer.syncer.engine.events import build_event
from pytest_syncer.syncer.engine.keys import WorkKey
from pytest_syncer.syncer.engine.settings import StatusMode
from pytest_syncer.syncer.engine.syncstatus import Verdict
from pytest_syncer.syncer.interfaces import ConflictStrategy

values = st.one_of(st.text(max_size=5), st.integers(), st.lists(st.text(max_size=3), max_size=2))
specs = st.dictionaries(
    st.sampled_from(["clusterIP", "clusterIPs", "ports", "selector", "type", "volumeName"]),
    values,
    max_size=5,
)


@given(st.sampled_from(["Service", "Job", "PersistentVolumeClaim", "ConfigMap"]), specs, specs)
def test_carried_fields_are_only_allocated_ones_the_desired_object_lacks(
    kind: str, want: dict[str, Any], have: dict[str, Any]
) -> None:
    desired = {"kind": kind, "metadata": {"name": "x"}, "spec": want}
    existing = {"kind": kind, "metadata": {"name": "x"}, "spec": have}
    before = copy.deepcopy(desired)
    result = carry_allocated_fields(desired, existing)
    assert desired == before, "the input must not change"
    allocated = ALLOCATED_SPEC_FIELDS.get(kind, ())
    for name, value in result["spec"].items():
        if name in want:
            assert value == want[name], "the desired value always wins"
        else:
            assert name in allocated
            assert value == have[name]
    assert carry_allocated_fields(desired, None) is desired


def test_a_job_keeps_its_generated_selector_and_template_label() -> None:
    desired = {
        "kind": "Job",
        "metadata": {"name": "j"},
        "spec": {"template": {"metadata": {"labels": {"app": "j"}}, "spec": {}}},
    }
    existing = {
        "kind": "Job",
        "spec": {
            "selector": {"matchLabels": {"controller-uid": "u"}},
            "template": {"metadata": {"labels": {"app": "j", "controller-uid": "u"}}},
        },
    }
    result = carry_allocated_fields(desired, existing)
    assert result["spec"]["selector"] == {"matchLabels": {"controller-uid": "u"}}
    assert result["spec"]["template"]["metadata"]["labels"] == {"app": "j", "controller-uid": "u"}


def test_targets_file_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "pool.yaml"
    path.write_text(
        "- name: a\n  downstream_kubeconfig: a.kubeconfig\n"
        "- name: b\n  downstream_kubeconfig: /abs/b.kubeconfig\n"
        "  tunnel_url: https://hub\n  tunnel_token_file: b.token\n"
    )
    first, second = load_targets_file(path)
    assert first.downstream_kubeconfig == tmp_path / "a.kubeconfig"
    assert first.tunnel_url is None
    assert second.downstream_kubeconfig == Path("/abs/b.kubeconfig")
    assert second.tunnel_token_file == tmp_path / "b.token"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[]", "non-empty list"),
        ("{name: a}", "non-empty list"),
        ("- downstream_kubeconfig: x", "entry 0 needs a string `name`"),
        ("- name: a", "needs `downstream_kubeconfig`"),
        ("- {name: a, downstream_kubeconfig: x}\n- {name: a, downstream_kubeconfig: y}", "repeat"),
        ("- [unclosed", "expected"),
    ],
)
def test_a_bad_targets_file_is_named(tmp_path: Path, text: str, complaint: str) -> None:
    path = tmp_path / "pool.yaml"
    path.write_text(text)
    with pytest.raises(TargetsFileError, match=r"pool\.yaml") as raised:
        load_targets_file(path)
    assert complaint in str(raised.value)


def test_arguments_follow_the_command_line_contract() -> None:
    parser = build_parser()
    args = parser.parse_args(
        [
            "--upstream-kubeconfig",
            "up",
            "--downstream-kubeconfig",
            "down",
            "--sync-target",
            "east",
            "--resources",
            "deployments.apps, widgets.example.com",
            "--conflict-strategy",
            "retain",
            "--status-mode",
            "annotation",
        ]
    )
    settings = settings_from_arguments(args)
    assert settings.resources == ("deployments.apps", "widgets.example.com")
    assert settings.conflict_strategy is ConflictStrategy.RETAIN
    assert settings.status_mode is StatusMode.ANNOTATION
    assert settings.heartbeat_interval == 20.0
    (target,) = targets_from_arguments(parser, args)
    assert (target.name, target.downstream_kubeconfig) == ("east", Path("down"))
    default = settings_from_arguments(
        parser.parse_args(["--upstream-kubeconfig", "up", "--sync-target", "x"])
    )
    assert default.resources == DEFAULT_RESOURCES


@pytest.mark.parametrize(
    "argv",
    [
        ["--upstream-kubeconfig", "up", "--sync-target", "x"],
        ["--upstream-kubeconfig", "up", "--sync-targets-file", "f", "--sync-target", "x"],
        [
            "--upstream-kubeconfig",
            "up",
            "--sync-target",
            "x",
            "--downstream-kubeconfig",
            "d",
            "--tunnel-url",
            "https://hub",
        ],
    ],
)
def test_incomplete_arguments_are_refused(argv: list[str]) -> None:
    parser = build_parser()
    with pytest.raises(SystemExit):
        targets_from_arguments(parser, parser.parse_args(argv))


def test_an_event_names_the_workload_and_the_target() -> None:
    workload = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "team", "uid": "u-1", "resourceVersion": "7"},
    }
    event = build_event(workload, "Conflict", "a foreign object", True, "east")
    assert event["metadata"]["namespace"] == "team"
    assert event["metadata"]["name"].startswith("web.")
    assert event["involvedObject"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "web",
        "namespace": "team",
        "uid": "u-1",
        "resourceVersion": "7",
    }
    assert event["type"] == "Warning"
    assert "east" in event["message"]
    assert (
        build_event(workload, "Conflict", "m", True, "east")["metadata"]["name"]
        != (event["metadata"]["name"])
    )


@pytest.mark.parametrize(
    ("phase", "status"), [(p, "True" if p is SyncPhase.SYNCED else "False") for p in SyncPhase]
)
def test_only_a_synced_verdict_makes_the_condition_true(phase: SyncPhase, status: str) -> None:
    assert Verdict(phase, "R", "m").condition_status == status


def test_work_keys_print_as_resource_and_object() -> None:
    assert str(WorkKey("deployments.apps", "team", "web")) == "deployments.apps team/web"
