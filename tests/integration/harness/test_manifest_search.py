"""Where `workload("x.yaml")` finds a manifest in a user's repository: their own folders first,
then the samples shipped in the package; an unknown name lists every folder searched."""

from __future__ import annotations

import pytest

from pytest_syncer.data import shipped

pytest_plugins = ["pytester"]


def test_own_workloads_win_over_the_shipped_samples_and_misses_name_every_folder(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\n")
    own = pytester.path / "fixtures" / "workloads"
    own.mkdir(parents=True)
    (own / "deployment.yaml").write_text("kind: Deployment\nmetadata: {name: mine}\n")
    pytester.makepyfile(
        f"""
        import pytest

        from pytest_syncer.harness.workloads import load_manifest

        def test_search(syncer_manifest_dirs):
            assert load_manifest("deployment.yaml", syncer_manifest_dirs)["metadata"] == {{
                "name": "mine"
            }}
            assert load_manifest("service.yaml", syncer_manifest_dirs)["kind"] == "Service"
            with pytest.raises(FileNotFoundError) as missing:
                load_manifest("nope.yaml", syncer_manifest_dirs)
            assert {str(shipped("workloads") / "nope.yaml")!r} in str(missing.value)
            assert str(syncer_manifest_dirs[2] / "nope.yaml") in str(missing.value)
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
