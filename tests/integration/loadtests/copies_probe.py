"""`DownstreamCopies` on an environment file, in a process of its own (locust's gevent patches
the standard library of whatever imports it): writes ConfigMaps into the environment's
clusters and prints, as one JSON line, which targets each event was counted for.

    python -m tests.integration.loadtests.copies_probe ENVDIR

Writes (each into `default`, the upstream's included), in this order, each followed by a
marker the probe waits for, so the writes before it have been read (one stream keeps the
store's order, and a target's own watch sees only its own cluster):
`upstream`: the ConfigMap `probe` upstream, and `marker-1` on the last target; `unlabelled`:
a ConfigMap without the load-test label on the first target, and `marker-2` there; then
`probe` on every target (`added`) and its deletion on every target (`deleted`).
"""

import json
import sys
from pathlib import Path
from typing import Any

import locust  # noqa: F401  (gevent patches ssl and socket before loadtest imports them)

from pytest_syncer.bench.loadtest import LOADTEST_LABEL, DownstreamCopies, kube_access
from pytest_syncer.harness.environment_file import EnvironmentFacts

TIMEOUT = 30.0
NAMESPACE = "default"


def configmaps(kubeconfig: str) -> str:
    return f"{kube_access(kubeconfig).server}/api/v1/namespaces/{NAMESPACE}/configmaps"


def create(kubeconfig: str, name: str, labelled: bool = True) -> None:
    labels = {LOADTEST_LABEL: "probe"} if labelled else {}
    body = {"metadata": {"name": name, "labels": labels}, "data": {"probe": name}}
    kube_access(kubeconfig).session().post(configmaps(kubeconfig), json=body).raise_for_status()


def delete(kubeconfig: str, name: str) -> None:
    kube_access(kubeconfig).session().delete(f"{configmaps(kubeconfig)}/{name}").raise_for_status()


def main(directory: str) -> dict[str, Any]:
    facts = EnvironmentFacts.read(Path(directory))
    names = list(facts.targets)
    first, last = names[0], names[-1]
    kubeconfigs = {name: target.kubeconfig for name, target in facts.targets.items()}
    copies = DownstreamCopies(facts)
    copies.wait_connected(TIMEOUT)
    result: dict[str, Any] = {
        "sources": [[s.context, s.target, sorted(s.targets)] for s in copies.sources]
    }

    probe = copies.expect("ADDED", "probe", set(names))
    marker = copies.expect("ADDED", "marker-1", {last})
    create(facts.upstream_kubeconfig, "probe")
    create(kubeconfigs[last], "marker-1")
    result["marker-1"] = marker.complete.wait(TIMEOUT)
    result["upstream"] = sorted(probe.seen)

    unlabelled = copies.expect("ADDED", "unlabelled", {first})
    marker = copies.expect("ADDED", "marker-2", {first})
    create(kubeconfigs[first], "unlabelled", labelled=False)
    create(kubeconfigs[first], "marker-2")
    result["marker-2"] = marker.complete.wait(TIMEOUT)
    result["unlabelled"] = sorted(unlabelled.seen)

    for name in names:
        create(kubeconfigs[name], "probe")
    result["added complete"] = probe.complete.wait(TIMEOUT)
    result["added"] = sorted(probe.seen)

    deleted = copies.expect("DELETED", "probe", set(names))
    for name in names:
        delete(kubeconfigs[name], "probe")
    result["deleted complete"] = deleted.complete.wait(TIMEOUT)
    result["deleted"] = sorted(deleted.seen)
    copies.close()
    return result


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
