"""SyncLatencyUser: an upstream write until every target has its copy, as `sync ...` requests.

Each task creates a ConfigMap upstream placed on every target of the environment, waits for the
ADDED event of its copy on every target, then deletes it and waits for every DELETED. The
events come from `DownstreamCopies`, shared by the users of this process: one watch per API
server process on its `/clusters/*` where the environment has one (embedded provider), else one
per target. Beside it, `sync direct create` is the upstream API server's own create latency in
the same run. What a user killed mid-task leaves upstream is deleted at the end of the test (the
syncers then remove its copies). The test ends with a log line of the environment's CPU per
placed cycle, each process's CPU time over the successful `sync create`s
(`pytest_syncer.bench.cycle_cpu`).

    locust -f loadtests --headless -u 5 -r 5 -t 30s SyncLatencyUser
"""

import time
import uuid
from typing import Any

from locust import User, constant, events, task
from locust.env import Environment

from pytest_syncer.bench.loadtest import (
    NAMESPACE,
    clean_up_after_test,
    delete_labelled,
    downstream_copies,
    ensure_namespace,
    environment_facts,
    kube_access,
    loadtest_labels,
    report,
)
from pytest_syncer.harness.environment_file import EnvironmentFacts

COPY_TIMEOUT = 30.0
WATCH_TIMEOUT = 30.0


class SyncLatencyUser(User):
    """Writes placed on N targets; reports `sync create N targets` and `sync delete N targets`."""

    wait_time = constant(0.5)

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        facts = environment_facts(environment)
        self.upstream = kube_access(facts.upstream_kubeconfig)
        self.session = self.upstream.session()
        self.labels = {target.label: "Sync" for target in facts.targets.values()}
        self.labels.update(loadtest_labels("sync"))
        self.targets = set(facts.targets)
        self.copies = downstream_copies(environment)
        self.url = f"{self.upstream.server}/api/v1/namespaces/{NAMESPACE}/configmaps"

    def on_start(self) -> None:
        ensure_namespace(self.upstream)
        self.copies.wait_connected(WATCH_TIMEOUT)

    def _write(
        self, kind: str, method: str, url: str, body: dict[str, Any] | None, name: str
    ) -> None:
        """One upstream write, timed twice: the API server's answer and every target's copy."""
        label = f"sync {'create' if kind == 'ADDED' else 'delete'} {len(self.targets)} targets"
        arrivals = self.copies.expect(kind, name, self.targets)
        started = time.perf_counter()
        try:
            response = self.session.request(method, url, json=body, timeout=30)
            refused = None
            if response.status_code >= 300:
                refused = RuntimeError(f"{method} {response.status_code}: {response.text[:200]}")
            if kind == "ADDED":
                report(self.environment, method, "sync direct create", started, exception=refused)
            if refused is not None:
                raise refused
            if not arrivals.complete.wait(COPY_TIMEOUT):
                missing = sorted(self.targets - arrivals.seen)
                raise TimeoutError(f"no copy after {COPY_TIMEOUT:g}s on {missing[:5]}")
        except Exception as error:
            report(self.environment, "SYNC", label, started, exception=error)
        else:
            report(self.environment, "SYNC", label, started)
        finally:
            self.copies.forget(kind, name)

    @task
    def create_and_delete(self) -> None:
        name = f"sync-{uuid.uuid4().hex[:12]}"
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "labels": self.labels},
            "data": {"written": str(time.time())},
        }
        self._write("ADDED", "POST", self.url, body, name)
        self._write("DELETED", "DELETE", f"{self.url}/{name}", None, name)


def _delete_sync_objects(facts: EnvironmentFacts) -> None:
    delete_labelled(
        kube_access(facts.upstream_kubeconfig),
        f"/api/v1/namespaces/{NAMESPACE}/configmaps",
        "sync",
    )


@events.test_stop.add_listener
def _clean_up(environment: Environment, **_: object) -> None:
    clean_up_after_test(environment, _delete_sync_objects)
