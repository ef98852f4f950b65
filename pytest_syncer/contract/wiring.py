"""A target's wiring: what a syncer for one sync target is given, in one type.

The same fields fill a `--syncer-command` template (`{upstream_kubeconfig}`, `{target}`, ...),
make the reference syncer's flags, and, per target, one entry of its pooled
`--sync-targets-file`; every table of them derives from this dataclass's fields. The flag names
follow kcp's syncer (kcp-dev/kcp, `cmd/syncer`: `--from-kubeconfig`, `--sync-target-name`,
`--resources`), spelled as docs/syncer.md lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from pytest_syncer.contract.resources import DEFAULT_RESOURCES


@dataclass(frozen=True)
class TargetWiring:
    """One target's kubeconfigs, names, tunnel and resources."""

    upstream_kubeconfig: Path
    downstream_kubeconfig: Path
    target: str
    upstream_cluster: str
    tunnel_url: str
    tunnel_token_file: Path
    tunnel_ca_file: Path
    resources: tuple[str, ...] = DEFAULT_RESOURCES
    """What `--resources` names: the built-in kinds and the custom resources under test."""

    def template_fields(self) -> dict[str, str]:
        """Every field as text, for a `--syncer-command` template; resources comma-separated."""
        return {
            name: ",".join(value) if isinstance(value, tuple) else str(value)
            for name in TEMPLATE_FIELDS
            for value in (getattr(self, name),)
        }

    def pool_entry(self) -> dict[str, str]:
        """This target's entry of a `--sync-targets-file`."""
        text = self.template_fields()
        return {"name": self.target, **{name: text[name] for name in POOL_ENTRY_FIELDS[1:]}}


TEMPLATE_FIELDS: tuple[str, ...] = tuple(field.name for field in fields(TargetWiring))
"""The fields a `--syncer-command` template may name."""
REQUIRED_TEMPLATE_FIELDS = ("upstream_kubeconfig", "downstream_kubeconfig", "target")
"""What a syncer cannot run without; a template that leaves one out is refused."""
POOL_ENTRY_FIELDS = (
    "name",
    "downstream_kubeconfig",
    "tunnel_url",
    "tunnel_token_file",
    "tunnel_ca_file",
)
"""One target of a pooled `--sync-targets-file`; what all its targets share (the upstream
kubeconfig and cluster, the resources) stays on the command line."""
