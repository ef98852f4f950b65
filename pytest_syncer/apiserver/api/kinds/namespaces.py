"""What every namespace holds from birth besides its ``default`` ServiceAccount.

Source: kubernetes/kubernetes ``pkg/controller/certificates/rootcacertpublisher/publisher.go``:
the root CA publisher writes ConfigMap ``kube-root-ca.crt`` into every namespace, with the
kube-apiserver's CA bundle under ``ca.crt`` and a ``kubernetes.io/description`` annotation.
"""

from __future__ import annotations

from typing import Any

ROOT_CA_CONFIG_MAP = "kube-root-ca.crt"
DESCRIPTION_ANNOTATION = "kubernetes.io/description"
DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters."
)


def root_ca_config_map(ca_pem: str) -> dict[str, Any]:
    """The body the publisher creates (the server then sets what it sets on any create)."""
    return {
        "metadata": {
            "name": ROOT_CA_CONFIG_MAP,
            "annotations": {DESCRIPTION_ANNOTATION: DESCRIPTION},
        },
        "data": {"ca.crt": ca_pem},
    }
