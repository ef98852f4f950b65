"""TunnelUser: the upstream reaching target clusters through the hub's proxy and the tunnels.

Mostly GETs of the user's own ConfigMap on a few targets (`TARGETS_PER_USER`, drawn at random
per user, so many users cover every target's tunnel without each writing to all of them first),
with a share of POST+DELETE pairs and watches, with the upstream's own token as the hub
requires. What a user killed mid-task leaves is deleted at the end of the test, straight from
each target.

    locust -f loadtests --headless -u 50 -r 50 -t 30s TunnelUser
"""

import random
import ssl
import time
import uuid

import gevent
from gevent.event import Event
from gevent.pool import Group
from locust import FastHttpUser, events, task
from locust.env import Environment

from pytest_syncer.bench.loadtest import (
    clean_up_after_test,
    delete_labelled,
    environment_facts,
    kube_access,
    loadtest_labels,
    report,
    watch_events,
)
from pytest_syncer.harness.environment_file import EnvironmentFacts

CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
TARGETS_PER_USER = 5
WATCH_SECONDS = 1
"""The server ends each watch after this long (the shortest `timeoutSeconds`)."""
FIRST_EVENT_TIMEOUT = 30.0


class TunnelUser(FastHttpUser):
    """GET, POST+DELETE and watch through `/clusters/<ws>/targets/<name>/proxy/...` to a
    few targets."""

    concurrency = 1

    def __init__(self, environment: Environment) -> None:
        facts = environment_facts(environment)
        upstream = kube_access(facts.upstream_kubeconfig)
        # geventhttpclient passes its own `cafile` (certifi's); the hub has a CA of its own.
        self.ssl_context_factory = lambda **_: ssl.create_default_context(cafile=facts.hub_ca)
        self.default_headers = upstream.headers
        self.watch_session = upstream.session()
        self.watch_session.verify = facts.hub_ca
        self.host = facts.hub_url
        targets = random.sample(sorted(facts.targets), min(TARGETS_PER_USER, len(facts.targets)))
        self.proxies = [
            f"/clusters/{facts.upstream_cluster}/targets/{name}/proxy" for name in targets
        ]
        self.object_name = f"tunnel-{uuid.uuid4().hex[:10]}"
        self.watches = Group()
        super().__init__(environment)

    def _configmaps(self, proxy: str) -> str:
        return f"{proxy}{CONFIGMAPS}"

    def _body(self, name: str) -> dict[str, object]:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "labels": loadtest_labels("tunnel")},
            "data": {"user": self.object_name},
        }

    def on_start(self) -> None:
        for proxy in self.proxies:
            self.client.post(
                self._configmaps(proxy), json=self._body(self.object_name), name="tunnel POST"
            )

    def on_stop(self) -> None:
        """A watch still open would see its object go at the test's clean-up: stop it first,
        unreported."""
        self.watches.kill()

    @task(40)
    def get(self) -> None:
        proxy = random.choice(self.proxies)
        self.client.get(f"{self._configmaps(proxy)}/{self.object_name}", name="tunnel GET")

    @task(2)
    def post_and_delete(self) -> None:
        proxy = random.choice(self.proxies)
        name = f"{self.object_name}-{uuid.uuid4().hex[:6]}"
        self.client.post(self._configmaps(proxy), json=self._body(name), name="tunnel POST")
        self.client.delete(f"{self._configmaps(proxy)}/{name}", name="tunnel DELETE")

    @task(1)
    def watch(self) -> None:
        """Open a watch and wait for its first event (the ADDED of this user's ConfigMap).

        The watch itself runs in a greenlet of its own, read to its end after `WATCH_SECONDS`
        as an informer's would be, and reports its time to the first event then. A watch that
        ends cleanly leaves its connections (locust to hub, agent to API server) open for the
        next one: closing each after its first event cost a TLS handshake on both, 30% of the
        CPU per operation of the whole mix; waiting in the task for its end kept most users
        idle. A streaming GET through `requests`: locust's FastHttpSession times a stream only
        to its headers."""
        proxy = random.choice(self.proxies)
        url = (
            f"{self.host}{self._configmaps(proxy)}?watch=1&timeoutSeconds={WATCH_SECONDS}"
            f"&fieldSelector=metadata.name%3D{self.object_name}"
        )
        first_seen = Event()
        self.watches.spawn(self._watch, url, first_seen)
        first_seen.wait(FIRST_EVENT_TIMEOUT)

    def _watch(self, url: str, first_seen: Event) -> None:
        started = time.perf_counter()
        first: dict[str, object] | None = None
        first_at: float | None = None
        error: Exception | None = None
        try:
            for event in watch_events(self.watch_session, url, Event()):
                if first is None:
                    first, first_at = event, time.perf_counter()
                    first_seen.set()
            if first is None or first.get("type") != "ADDED":
                error = AssertionError(f"the watch's first event was {first!r}")
        except Exception as failure:
            error = failure
        finally:
            first_seen.set()
        report(
            self.environment,
            "WATCH",
            "tunnel WATCH first event",
            started,
            exception=error,
            finished=first_at,
        )


def _delete_tunnel_objects(facts: EnvironmentFacts) -> None:
    gevent.joinall(
        [
            gevent.spawn(delete_labelled, kube_access(target.kubeconfig), CONFIGMAPS, "tunnel")
            for target in facts.targets.values()
        ],
        raise_error=True,
    )


@events.test_stop.add_listener
def _clean_up(environment: Environment, **_: object) -> None:
    clean_up_after_test(environment, _delete_tunnel_objects)
