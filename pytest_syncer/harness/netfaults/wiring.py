"""Point a syncer's three links at the fault proxy: its upstream and downstream kubeconfigs are
rewritten to the proxy's loopback port, and so is its tunnel URL. The syncer gets files and a
URL as before (`--syncer-command` syncers through the same template fields), and still checks
the real server's certificate: `tls-server-name` names the real host when it is not 127.0.0.1."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

import yaml

from pytest_syncer.contract.wiring import TargetWiring
from pytest_syncer.harness.netfaults.proxy import FaultProxy, Link

LOOPBACK = "127.0.0.1"


def link_name(target: str, kind: str) -> str:
    """`target-000/tunnel`: the key of a link in `FaultProxy.links`."""
    return f"{target}/{kind}"


def _peer(url: SplitResult) -> tuple[str, int]:
    if url.hostname is None:
        raise ValueError(f"{url.geturl()!r} names no host")
    return url.hostname, url.port or (443 if url.scheme == "https" else 80)


def _through(url: SplitResult, link: Link) -> str:
    return urlunsplit(url._replace(netloc=f"{LOOPBACK}:{link.address[1]}"))


def proxy_url(proxy: FaultProxy, name: str, url: str) -> str:
    """`url` reached through a new link `name`."""
    parts = urlsplit(url)
    return _through(parts, proxy.open(name, _peer(parts)))


def proxy_kubeconfig(proxy: FaultProxy, name: str, source: Path, into: Path) -> Path:
    """A copy of kubeconfig `source` at `into` whose current context's server is reached
    through a new link `name`."""
    document: dict[str, Any] = yaml.safe_load(source.read_text())
    contexts = {entry["name"]: entry["context"] for entry in document["contexts"]}
    cluster_name = contexts[document["current-context"]]["cluster"]
    [cluster] = [
        entry["cluster"] for entry in document["clusters"] if entry["name"] == cluster_name
    ]
    parts = urlsplit(cluster["server"])
    host, _ = _peer(parts)
    cluster["server"] = _through(parts, proxy.open(name, _peer(parts)))
    if parts.scheme == "https" and host != LOOPBACK:
        cluster.setdefault("tls-server-name", host)
    into.parent.mkdir(parents=True, exist_ok=True)
    into.touch(0o600)
    into.write_text(yaml.safe_dump(document, sort_keys=False))
    return into


def proxied(proxy: FaultProxy, wiring: TargetWiring, directory: Path) -> TargetWiring:
    """`wiring` with its upstream, downstream and tunnel links each through a link of `proxy`;
    the rewritten kubeconfigs are written under `directory`."""
    target = wiring.target
    return replace(
        wiring,
        upstream_kubeconfig=proxy_kubeconfig(
            proxy,
            link_name(target, "upstream"),
            wiring.upstream_kubeconfig,
            directory / f"{target}-upstream.kubeconfig",
        ),
        downstream_kubeconfig=proxy_kubeconfig(
            proxy,
            link_name(target, "downstream"),
            wiring.downstream_kubeconfig,
            directory / f"{target}-downstream.kubeconfig",
        ),
        tunnel_url=proxy_url(proxy, link_name(target, "tunnel"), wiring.tunnel_url),
    )
