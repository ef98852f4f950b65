"""``networking.k8s.io/v1`` defaults: NetworkPolicy (Ingress has none).

Source: kubernetes/kubernetes ``pkg/apis/networking/v1/defaults.go``
(``SetDefaults_NetworkPolicy``, ``SetDefaults_NetworkPolicyPort``).
"""

from __future__ import annotations

from typing import Any

from pytest_syncer.apiserver.api.kinds.tree import child, items

TCP = "TCP"


def network_policy(obj: dict[str, Any]) -> None:
    spec = child(obj, "spec")
    if spec is None:
        return
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]
    for direction in ("ingress", "egress"):
        for rule in items(spec, direction):
            for port in items(rule, "ports"):
                if port.get("protocol") is None:
                    port["protocol"] = TCP
