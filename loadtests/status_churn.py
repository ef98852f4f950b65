"""StatusChurnUser: flip how every target's simulated controllers behave, time the aggregate.

One Deployment is placed on every target. Each task rewrites the simulator's profiles file (the
file the environment's `pytest-syncer simulate` re-reads), flipping all targets between
`healthy` and `never-ready`, and reports, as `status ...` requests, the time until the upstream
Deployment's aggregated status is right for all N targets: every replica ready and available,
or none. It watches the upstream Deployment; it never polls. Embedded provider only (the
simulator plays the controllers there). One user: the profiles file is one per environment.

    locust -f loadtests --headless -u 1 -r 1 -t 30s StatusChurnUser
"""

import time
from pathlib import Path
from typing import Any

from gevent.event import Event
from locust import User, constant, events, task
from locust.env import Environment
from locust.exception import StopUser

from pytest_syncer.bench.loadtest import (
    NAMESPACE,
    RUNNER,
    LoadTestSetupError,
    clean_up_after_test,
    delete_labelled,
    ensure_namespace,
    environment_facts,
    kube_access,
    loadtest_labels,
    report,
    watch_events,
)
from pytest_syncer.harness.clusters.embedded import write_profiles
from pytest_syncer.harness.environment_file import EnvironmentFacts

REPLICAS = 2
NAME = f"status-churn-{RUNNER}"
AGGREGATE_TIMEOUT = 60.0
FLIPS = ("never-ready", "healthy")

_flipping_here: list[str] = []
"""The Deployment, once this process's StatusChurnUser made it: only that process restores the
profiles at the end."""


def _write_profiles(facts: EnvironmentFacts, default: str) -> None:
    assert facts.profiles_file is not None
    write_profiles(Path(facts.profiles_file), {"default": default, "clusters": {}})


def _aggregate_is(profile: str, status: dict[str, Any], targets: int) -> bool:
    want = REPLICAS * targets if profile == "healthy" else 0
    return bool(
        status.get("replicas", 0) == REPLICAS * targets
        and status.get("readyReplicas", 0) == want
        and status.get("availableReplicas", 0) == want
    )


class StatusChurnUser(User):
    """Reports `status flip to <profile> (N targets)`."""

    fixed_count = 1
    wait_time = constant(0.5)

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.facts = environment_facts(environment)
        self.upstream = kube_access(self.facts.upstream_kubeconfig)
        self.session = self.upstream.session()
        self.url = f"{self.upstream.server}/apis/apps/v1/namespaces/{NAMESPACE}/deployments"
        self.flips = 0

    def on_start(self) -> None:
        if self.facts.profiles_file is None:
            raise StopUser(f"{self.facts.provider} has no simulator: StatusChurnUser needs one")
        ensure_namespace(self.upstream)
        _write_profiles(self.facts, "healthy")
        labels = {target.label: "Sync" for target in self.facts.targets.values()}
        labels.update(loadtest_labels("status"))
        body: dict[str, Any] = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": NAME, "labels": labels},
            "spec": {
                "replicas": REPLICAS,
                "selector": {"matchLabels": {"app": NAME}},
                "template": {
                    "metadata": {"labels": {"app": NAME}},
                    "spec": {"containers": [{"name": "app", "image": "nginx"}]},
                },
            },
        }
        response = self.session.post(self.url, json=body, timeout=30)
        if response.status_code not in (201, 409):
            raise LoadTestSetupError(f"creating {NAME}: {response.status_code} {response.text}")
        _flipping_here.append(NAME)
        self._measure("healthy", f"status initial ({len(self.facts.targets)} targets)", None)

    def _measure(self, profile: str, name: str, flip: str | None) -> None:
        """Watch the Deployment, then (if `flip`) write the profile; report when it is right."""
        targets = len(self.facts.targets)
        url = (
            f"{self.url}?watch=1&fieldSelector=metadata.name%3D{NAME}"
            f"&timeoutSeconds={AGGREGATE_TIMEOUT:.0f}"
        )
        connected, stop = Event(), Event()
        started = time.perf_counter()
        last: dict[str, Any] = {}
        error: Exception | None = None
        try:
            events = watch_events(self.session, url, stop, connected)
            for event in events:
                last = event["object"].get("status") or {}
                if flip is not None:
                    _write_profiles(self.facts, flip)
                    started, flip = time.perf_counter(), None
                    continue
                if _aggregate_is(profile, last, targets):
                    break
                if time.perf_counter() - started > AGGREGATE_TIMEOUT:
                    raise TimeoutError(f"aggregate still {last} after {AGGREGATE_TIMEOUT:g}s")
            else:
                raise TimeoutError(f"the watch ended with the aggregate at {last}")
        except Exception as failure:
            error = failure
        finally:
            stop.set()
        report(self.environment, "STATUS", name, started, exception=error)

    @task
    def flip(self) -> None:
        profile = FLIPS[self.flips % len(FLIPS)]
        self.flips += 1
        self._measure(
            profile, f"status flip to {profile} ({len(self.facts.targets)} targets)", profile
        )


def _restore(facts: EnvironmentFacts) -> None:
    """Every target healthy again, and the Deployment gone."""
    if facts.profiles_file is None or not _flipping_here:
        return
    _flipping_here.clear()
    _write_profiles(facts, "healthy")
    delete_labelled(
        kube_access(facts.upstream_kubeconfig),
        f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments",
        "status",
    )


@events.test_stop.add_listener
def _clean_up(environment: Environment, **_: object) -> None:
    clean_up_after_test(environment, _restore)
