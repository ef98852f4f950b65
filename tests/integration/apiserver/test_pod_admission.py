"""The default mutating admission a real cluster runs on a new Pod, through HTTP; and the
reference syncer's copy of such a Pod, created on a target.

Sources (kubernetes/kubernetes, plugins enabled by default): ``plugin/pkg/admission/
defaulttolerationseconds`` (NoExecute tolerations of ``node.kubernetes.io/not-ready`` and
``node.kubernetes.io/unreachable`` for 300 s unless the Pod tolerates them already),
``plugin/pkg/admission/serviceaccount`` (``serviceAccountName: default``; unless
``automountServiceAccountToken`` is false on the Pod, or on its ServiceAccount when the Pod says
nothing, a projected ``kube-api-access-<5>`` volume: a 3607 s token, ``kube-root-ca.crt``'s
``ca.crt``, the namespace; mounted read-only at ``/var/run/secrets/kubernetes.io/serviceaccount``
in every container and init container), ``plugin/pkg/admission/priority`` (``priority`` 0,
``preemptionPolicy`` PreemptLowerPriority without a class); the volume's shape is the one
kubernetes.io's "Managing Service Accounts" page shows (bound service account token volume).
"""

from __future__ import annotations

import re
from typing import Any

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.contract.objects import SyncTarget
from pytest_syncer.syncer.interfaces import TransformContext
from pytest_syncer.syncer.transform.pipeline import downstream_pipeline
from tests.integration.apiserver.clients import ClusterClient
from tests.support.tokens import token_of

PODS = "/api/v1/namespaces/default/pods"
MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
TOLERATIONS = [
    {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")
]
TOKEN_VOLUME_NAME = re.compile(r"^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$")


def _pod(name: str, **spec: Any) -> dict[str, Any]:
    containers = [{"name": "web", "image": "nginx:1.27"}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": containers, **spec},
    }


def _created(client: ClusterClient, body: dict[str, Any], path: str = PODS) -> Any:
    answer = client.post(path, body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_new_pod_gets_what_admission_adds(upstream: ClusterClient) -> None:
    init = [{"name": "setup", "image": "busybox:1.36"}]
    spec = _created(upstream, _pod("admitted", initContainers=init))["spec"]
    assert (spec["serviceAccountName"], spec["serviceAccount"]) == ("default", "default")
    assert (spec["priority"], spec["preemptionPolicy"]) == (0, "PreemptLowerPriority")
    assert spec["tolerations"] == TOLERATIONS
    [volume] = spec["volumes"]
    assert TOKEN_VOLUME_NAME.match(volume["name"]), volume["name"]
    assert volume["projected"] == {
        "defaultMode": 420,
        "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {
                "configMap": {
                    "name": "kube-root-ca.crt",
                    "items": [{"key": "ca.crt", "path": "ca.crt"}],
                }
            },
            {
                "downwardAPI": {
                    "items": [
                        {
                            "path": "namespace",
                            "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                        }
                    ]
                }
            },
        ],
    }
    mount = {"name": volume["name"], "readOnly": True, "mountPath": MOUNT_PATH}
    for container in (*spec["initContainers"], *spec["containers"]):
        assert container["volumeMounts"] == [mount], container["name"]


def test_what_the_pod_already_says_is_kept(upstream: ClusterClient) -> None:
    tolerate_all = [{"operator": "Exists"}]
    spec = _created(
        upstream,
        _pod("opted-out", automountServiceAccountToken=False, tolerations=tolerate_all),
    )["spec"]
    assert spec["tolerations"] == tolerate_all
    assert "volumes" not in spec
    assert "volumeMounts" not in spec["containers"][0]
    mounted = _pod("own-mount")
    mounted["spec"]["containers"][0]["volumeMounts"] = [{"name": "mine", "mountPath": MOUNT_PATH}]
    mounted["spec"]["volumes"] = [{"name": "mine", "emptyDir": {}}]
    spec = _created(upstream, mounted)["spec"]
    assert [v["name"] for v in spec["volumes"]] == ["mine"]


def test_the_service_account_can_opt_out(upstream: ClusterClient) -> None:
    account = {"metadata": {"name": "quiet"}, "automountServiceAccountToken": False}
    _created(upstream, account, "/api/v1/namespaces/default/serviceaccounts")
    spec = _created(upstream, _pod("quiet", serviceAccountName="quiet"))["spec"]
    assert "volumes" not in spec
    loud = _created(
        upstream, _pod("loud", serviceAccountName="quiet", automountServiceAccountToken=True)
    )
    assert loud["spec"]["volumes"][0]["name"].startswith("kube-api-access-")


def test_templates_are_not_admitted(upstream: ClusterClient) -> None:
    """The plugins admit Pods; a Deployment's template stays as it was sent."""
    template = _pod("ignored")
    template["metadata"] = {"labels": {"app": "t"}}
    del template["apiVersion"], template["kind"]
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "templated"},
        "spec": {"selector": {"matchLabels": {"app": "t"}}, "template": template},
    }
    created = _created(upstream, body, "/apis/apps/v1/namespaces/default/deployments")
    pod_spec = created["spec"]["template"]["spec"]
    assert not {"tolerations", "volumes", "serviceAccountName", "priority"} & set(pod_spec)


def test_a_put_of_the_sent_pod_is_refused_but_read_modify_write_is_not(
    upstream: ClusterClient,
) -> None:
    """What admission added is part of the Pod's immutable spec: a naive replace fails."""
    created = _created(upstream, _pod("replaced"))
    naive = upstream.put(f"{PODS}/replaced", _pod("replaced"))
    assert naive.status_code == 422, naive.text
    assert "pod updates may not change fields" in naive.json()["message"]
    created["spec"]["containers"][0]["image"] = "nginx:1.28"
    assert upstream.put(f"{PODS}/replaced", created).status_code == 200


def test_the_syncers_copy_of_an_admitted_pod_is_created_on_a_target(
    upstream: ClusterClient, apiserver: BackgroundAPIServer
) -> None:
    """The copy drops the upstream's service account and token volume (they name the
    upstream's account and CA); the target's admission then mounts nothing, automount off."""
    admitted = _created(upstream, _pod("copied"))
    target = SyncTarget("target-1", "target-1", "0f4c9d5e-6b1a-4a3e-8e7d-2c9b1a5f3e70")
    below = downstream_pipeline()(admitted, TransformContext(target))
    spec = below["spec"]
    assert not [v for v in spec.get("volumes", []) if v["name"].startswith("kube-api-access-")]
    assert "volumeMounts" not in spec["containers"][0]
    assert spec["automountServiceAccountToken"] is False
    client = ClusterClient(
        f"{apiserver.url}/clusters/target-1",
        token_of(apiserver.kubeconfigs["target-1"]),
        str(apiserver.ca_file),
    )
    namespace = below["metadata"]["namespace"]
    assert client.post("/api/v1/namespaces", {"metadata": {"name": namespace}}).status_code == 201
    copy = _created(client, below, f"/api/v1/namespaces/{namespace}/pods")["spec"]
    assert "volumes" not in copy
    assert copy["serviceAccountName"] == "default"
    assert copy["tolerations"] == TOLERATIONS
