"""Kubeconfig files that the official clients and kubectl read unchanged.

Files are written 0600 and swapped in atomically, so a client that reads one while the server
rewrites it (a restart on the same port) never sees half a file.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pytest_syncer.apiserver.certs import write_private_file


@dataclass(frozen=True)
class KubeconfigContext:
    """What one context needs: where the cluster is, how to prove who we are, whom to trust."""

    server: str
    token: str
    ca_pem: bytes | None
    namespace: str = "default"


def kubeconfig_document(
    contexts: Mapping[str, KubeconfigContext], current: str | None = None
) -> dict[str, Any]:
    """Build the kubeconfig as a dict: one cluster, user and context per name."""
    if not contexts:
        raise ValueError("a kubeconfig needs at least one context")
    current_context = current if current is not None else next(iter(contexts))
    if current_context not in contexts:
        raise ValueError(f"current context {current_context!r} is not one of {sorted(contexts)}")
    clusters = []
    users = []
    entries = []
    for name, context in contexts.items():
        cluster: dict[str, Any] = {"server": context.server}
        if context.ca_pem is not None:
            cluster["certificate-authority-data"] = base64.b64encode(context.ca_pem).decode()
        clusters.append({"name": name, "cluster": cluster})
        users.append({"name": name, "user": {"token": context.token}})
        entries.append(
            {
                "name": name,
                "context": {"cluster": name, "user": name, "namespace": context.namespace},
            }
        )
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": clusters,
        "users": users,
        "contexts": entries,
        "current-context": current_context,
    }


def write_multi_context_kubeconfig(
    path: Path, contexts: Mapping[str, KubeconfigContext], current: str | None = None
) -> Path:
    """Write a kubeconfig holding every context in ``contexts``; the first is current by default."""
    document = kubeconfig_document(contexts, current)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write_private_file(staging, yaml.safe_dump(document, sort_keys=False).encode())
    os.replace(staging, path)
    return path


def write_kubeconfig(
    path: Path,
    *,
    server: str,
    token: str,
    ca_pem: bytes | None,
    name: str,
    namespace: str = "default",
) -> Path:
    """Write a single-context kubeconfig named ``name``."""
    context = KubeconfigContext(server=server, token=token, ca_pem=ca_pem, namespace=namespace)
    return write_multi_context_kubeconfig(path, {name: context}, name)


def load_kubeconfig(path: Path) -> dict[str, Any]:
    """Read a kubeconfig back as a dict."""
    document = yaml.safe_load(path.read_text())
    if not isinstance(document, dict):
        raise ValueError(f"{path} is not a kubeconfig: expected a mapping at the top level")
    return document


def context_from_kubeconfig(
    document: Mapping[str, Any], name: str | None = None
) -> KubeconfigContext:
    """Pick one context (the current one by default) out of a loaded kubeconfig."""
    context_name = name if name is not None else document.get("current-context")
    context = _named(document, "contexts", context_name)["context"]
    cluster = _named(document, "clusters", context["cluster"])["cluster"]
    user = _named(document, "users", context["user"])["user"]
    ca_data = cluster.get("certificate-authority-data")
    return KubeconfigContext(
        server=cluster["server"],
        token=user.get("token", ""),
        ca_pem=base64.b64decode(ca_data) if ca_data else None,
        namespace=context.get("namespace", "default"),
    )


def _named(document: Mapping[str, Any], section: str, name: object) -> dict[str, Any]:
    for entry in document.get(section) or []:
        if entry.get("name") == name:
            return dict(entry)
    raise ValueError(f"kubeconfig has no entry {name!r} in {section}")
