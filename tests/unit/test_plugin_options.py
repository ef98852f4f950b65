"""Self-tests of the plugin's options and markers through pytester."""

from __future__ import annotations

import sys

import pytest

from pytest_syncer.harness.config import auto_apiservers

AUTO = f"{auto_apiservers()} API server process{'es' if auto_apiservers() > 1 else ''}"
"""What the header says of `--syncer-apiservers auto` on this machine."""

TESTS = """
import sys

import pytest

@pytest.mark.syncer_e2e
def test_end_to_end():
    pass

def test_plain():
    pass
"""


def test_e2e_tests_are_skipped_without_the_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(TESTS)
    result = pytester.runpytest("-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*run it with pytest --syncer-e2e*"])


def test_syncer_e2e_runs_only_the_e2e_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(TESTS)
    result = pytester.runpytest("--syncer-e2e")
    result.assert_outcomes(passed=1, deselected=1)


def test_ini_twin_enables_e2e(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nsyncer_e2e = true\n")
    pytester.makepyfile(TESTS)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, deselected=1)


def test_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.syncer_e2e:*--syncer-e2e*"])


USES_ENVIRONMENT = """
import sys

import pytest

@pytest.mark.syncer_e2e
@pytest.mark.syncer_targets(3)
def test_needs_an_environment(syncer_env, workload, faults):
    assert syncer_env.size == 3
"""

NO_PROCESSES = """
import sys

from pytest_syncer.process.parent import ServiceProcess


def _refuse(self):
    raise AssertionError(f"a process was started: {self.argv!r}")


ServiceProcess.start = _refuse


def pytest_unconfigure(config):
    started = "pytest_syncer.harness.environment" in sys.modules
    print(f"environment module imported: {started}")
"""


def test_options_are_in_one_group_with_ini_twins(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    text = result.stdout.str()
    section = text[text.index("multi-cluster syncer harness") :]
    for flag in (
        "--syncer-e2e",
        "--syncer-provider",
        "--syncer-targets",
        "--syncer-kubeconfig",
        "--syncer-kind-clusters",
        "--syncer-apiservers",
        "--syncer-command",
        "--syncer-crds",
        "--syncer-timeout",
        "--syncer-seed",
        "--syncer-keep",
        "--syncer-artifacts",
        "--syncer-xdist",
        "--syncer-network-faults",
        "--syncer-network-latency",
    ):
        assert flag in section, flag
    for ini in (
        "syncer_e2e",
        "syncer_provider",
        "syncer_targets",
        "syncer_kubeconfig",
        "syncer_kind_clusters",
        "syncer_apiservers",
        "syncer_command",
        "syncer_crds",
        "syncer_timeout",
        "syncer_seed",
        "syncer_keep",
        "syncer_artifacts",
        "syncer_xdist",
        "syncer_network_faults",
        "syncer_network_latency",
    ):
        assert f"{ini} (" in text, ini


def _header(pytester: pytest.Pytester, *args: str) -> str:
    pytester.makepyfile(TESTS)
    result = pytester.runpytest("--syncer-e2e", "--collect-only", *args)
    [line] = [line for line in result.stdout.lines if line.startswith("syncer: ")]
    return line


def test_defaults_in_the_report_header(pytester: pytest.Pytester) -> None:
    assert _header(pytester) == (
        f"syncer: provider embedded, 50 targets, reference syncer, pooled, {AUTO}, "
        "timeout 60s, seed 12"
    )


def test_the_header_says_resync_cannot_rescue_a_missed_event(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(TESTS)
    result = pytester.runpytest("--syncer-e2e", "--collect-only", "--syncer-timeout=20")
    result.stdout.fnmatch_lines(
        ["syncer resync: 200s, 10x the 20s wait deadline: a watch event the syncer misses *"]
    )


def test_ini_values_are_used(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nsyncer_targets = 7\nsyncer_timeout = 9\nsyncer_seed = 3\n")
    assert _header(pytester) == (
        f"syncer: provider embedded, 7 targets, reference syncer, pooled, {AUTO}, "
        "timeout 9s, seed 3"
    )


def test_command_line_wins_over_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nsyncer_targets = 7\nsyncer_e2e = false\n")
    assert _header(pytester, "--syncer-targets=11").startswith(
        "syncer: provider embedded, 11 targets,"
    )


def test_ini_network_faults_show_in_the_header(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nsyncer_network_faults = on\n")
    assert _header(pytester).endswith("seed 12, network faults on")
    assert _header(pytester, "--syncer-network-faults=off").endswith("seed 12")
    assert _header(pytester, "--syncer-network-latency=200+50").endswith(
        "seed 12, network faults on (latency 200+50 ms)"
    )


def test_ini_syncer_command_is_used(pytester: pytest.Pytester) -> None:
    command = "my-syncer {upstream_kubeconfig} {downstream_kubeconfig} {target}"
    pytester.makeini(f"[pytest]\nsyncer_command = {command}\n")
    assert _header(pytester) == (
        f"syncer: provider embedded, 50 targets, {command}, {AUTO}, timeout 60s, seed 12"
    )


def test_ini_kind_clusters_is_read_and_checked(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nsyncer_kind_clusters = 3\n")
    pytester.makepyfile(TESTS)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *--syncer-kind-clusters is for --syncer-provider kind*"])


def test_apiservers_from_the_command_line_and_the_ini_are_named_in_the_header(
    pytester: pytest.Pytester,
) -> None:
    assert "50 targets, reference syncer, pooled, 2 API server processes, timeout" in _header(
        pytester, "--syncer-apiservers=2"
    )
    pytester.makeini("[pytest]\nsyncer_apiservers = 3\n")
    assert ", 3 API server processes, " in _header(pytester)
    assert ", 4 API server processes, " in _header(pytester, "--syncer-apiservers=4")
    assert ", 1 API server process, timeout" in _header(pytester, "--syncer-apiservers=1")


def test_ini_kubeconfig_provider(pytester: pytest.Pytester) -> None:
    kubeconfig = pytester.path / "clusters.kubeconfig"
    pytester.makeini(f"[pytest]\nsyncer_provider = kubeconfig\nsyncer_kubeconfig = {kubeconfig}\n")
    assert _header(pytester).startswith("syncer: provider kubeconfig, 50 targets")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--syncer-provider=embedded", "--syncer-kubeconfig=x"], "*--syncer-kubeconfig is for*"),
        (["--syncer-kind-clusters=3"], "*--syncer-kind-clusters is for --syncer-provider kind*"),
        (["--syncer-provider=kubeconfig"], "*needs --syncer-kubeconfig*"),
        (["--syncer-apiservers=0"], "*--syncer-apiservers must be at least 1*"),
        (["--syncer-apiservers=many"], "*--syncer-apiservers must be a number, not 'many'*"),
        (
            ["--syncer-provider=kind", "--syncer-apiservers=2"],
            "*--syncer-apiservers is for --syncer-provider embedded, not kind*",
        ),
        (["--syncer-provider=docker"], "*--syncer-provider must be one of*"),
        (["--syncer-targets=0"], "*--syncer-targets must be at least 1*"),
        (["--syncer-targets=many"], "*--syncer-targets must be a number*"),
        (["--syncer-timeout=-1"], "*--syncer-timeout must be at least*"),
        (["--syncer-command=my-syncer {target}"], "*--syncer-command must pass*"),
        (["--syncer-keep=sometimes"], "*--syncer-keep must be one of never, on-failure, always*"),
        (["--syncer-xdist=pooled"], "*--syncer-xdist must be one of per-worker, shared*"),
        (["--syncer-network-faults=maybe"], "*--syncer-network-faults must be on or off*"),
        (
            ["--syncer-network-faults=on", "--syncer-keep=always"],
            "*--syncer-keep always needs --syncer-network-faults off*",
        ),
        (["--syncer-crds=nowhere/crds"], "*--syncer-crds: no such file or folder: */nowhere/crds"),
        (
            ["--syncer-command=s {upstream_kubeconfig} {downstream_kubeconfig} {target} {bogus}"],
            "*unknown fields ?'bogus'?*",
        ),
    ],
)
def test_conflicting_options_are_usage_errors(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    pytester.makepyfile(TESTS)
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])


def test_keep_and_artifacts_from_the_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nsyncer_keep = on-failure\nsyncer_artifacts = out\n")
    pytester.makeconftest(
        """
        def pytest_report_header(config):
            from pytest_syncer.harness.fixtures import harness_config

            settings = harness_config(config)
            return [f"probe: {settings.keep} {settings.artifacts}"]
        """
    )
    pytester.makepyfile(TESTS)
    result = pytester.runpytest("--collect-only")
    result.stdout.fnmatch_lines([f"probe: on-failure {pytester.path / 'out'}"])


def test_crds_from_the_ini_are_named_in_the_header(pytester: pytest.Pytester) -> None:
    (pytester.path / "crds").mkdir()
    pytester.makeini("[pytest]\nsyncer_crds = crds\n")
    assert _header(pytester).endswith("seed 12, CRDs from crds")


def test_named_crds_with_a_command_that_does_not_pass_resources(
    pytester: pytest.Pytester,
) -> None:
    (pytester.path / "crds").mkdir()
    pytester.makepyfile(TESTS)
    command = "my-syncer {upstream_kubeconfig} {downstream_kubeconfig} {target}"
    result = pytester.runpytest("--syncer-crds=crds", f"--syncer-command={command}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *--syncer-command does not pass {resources}*"])
    told = pytester.runpytest(
        "--syncer-crds=crds", f"--syncer-command={command} --resources {{resources}}"
    )
    assert told.ret == pytest.ExitCode.OK


def test_kind_clusters_with_kind_is_fine(pytester: pytest.Pytester) -> None:
    assert _header(pytester, "--syncer-provider=kind", "--syncer-kind-clusters=3").startswith(
        "syncer: provider kind"
    )


def test_targets_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.syncer_targets(n):*built once per size*"])


def test_help_and_collect_only_start_no_process(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(NO_PROCESSES)
    pytester.makepyfile(USES_ENVIRONMENT)
    helped = pytester.runpytest_subprocess("--help")
    assert helped.ret == pytest.ExitCode.OK
    helped.stdout.fnmatch_lines(["environment module imported: False"])
    collected = pytester.runpytest_subprocess("--syncer-e2e", "--collect-only", "-q")
    assert collected.ret == pytest.ExitCode.OK
    collected.stdout.fnmatch_lines(
        ["*test_needs_an_environment*", "environment module imported: False"]
    )


def test_fixtures_shows_every_syncer_fixture_with_its_doc_and_starts_nothing(
    pytester: pytest.Pytester,
) -> None:
    from pytest_syncer.harness import fixtures

    pytester.makeconftest(NO_PROCESSES)
    pytester.makepyfile(USES_ENVIRONMENT)
    listed = pytester.runpytest_subprocess("--fixtures", "--syncer-e2e")
    assert listed.ret == pytest.ExitCode.OK
    documented = {
        name: (value.__doc__ or "").splitlines()[0]
        for name, value in vars(fixtures).items()
        if type(value).__name__ == "FixtureFunctionDefinition"
    }
    assert {"workload", "sync_targets", "upstream", "syncer_env"} <= set(documented)
    for name, first_line in documented.items():
        listed.stdout.fnmatch_lines([f"{name}*", f"    {first_line}"])
    listed.stdout.fnmatch_lines(["environment module imported: False"])


def test_importing_the_plugin_is_cheap(pytester: pytest.Pytester) -> None:
    script = pytester.makepyfile(
        probe="""
        import sys
        import pytest_syncer.plugin
        import pytest_syncer.harness.fixtures
        modules = ("aiohttp", "kubernetes", "websockets", "pytest_syncer.harness.environment")
        heavy = sorted(m for m in modules if m in sys.modules)
        print("heavy:", heavy)
        """
    )
    result = pytester.run(sys.executable, str(script))
    result.stdout.fnmatch_lines(["heavy: []"])


def test_bad_targets_marker_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.syncer_e2e
        @pytest.mark.syncer_targets("many")
        def test_sized(syncer_env):
            pass
        """
    )
    result = pytester.runpytest("--syncer-e2e")
    result.stdout.fnmatch_lines(["*syncer_targets takes one positive integer*"])
