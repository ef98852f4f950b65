"""Every credential an environment directory holds, and where any of them leaked.

The credential stores themselves (kubeconfigs, the proxied kubeconfigs of the network faults'
links, tunnel token files, the hub secret, the API server's token file and the CAs' keys) are
where credentials belong; every other file under the directory (logs, pool files, profiles,
artifacts) must hold none of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

STORES = ("kubeconfigs", "links", "tunnel-tokens", "hub-secret", "apiserver-data", "hub-state")
"""Top-level names under an environment directory that are credential stores, with the data
dirs of the further API server processes (`apiserver-<i>-data`, see `is_store`)."""


def is_store(name: str) -> bool:
    return name in STORES or (name.startswith("apiserver-") and name.endswith("-data"))


def apiserver_data_dirs(workdir: Path) -> list[Path]:
    """Every API server process's data dir: `apiserver-data`, `apiserver-1-data`, ..."""
    return sorted(
        path
        for path in workdir.iterdir()
        if path.is_dir() and is_store(path.name) and path.name.startswith("apiserver")
    )


def credentials(workdir: Path) -> dict[str, str]:
    """What each credential is called -> its value."""
    found: dict[str, str] = {}
    for path in sorted((workdir / "kubeconfigs").rglob("*.kubeconfig")):
        document = yaml.safe_load(path.read_text())
        for user in document.get("users") or ():
            token = (user.get("user") or {}).get("token")
            if token:
                found[f"{path.name} token of {user.get('name')}"] = token
    for path in sorted((workdir / "tunnel-tokens").glob("*")):
        found[f"tunnel token {path.name}"] = path.read_text().strip()
    found["hub secret"] = (workdir / "hub-secret").read_text().strip()
    data_dirs = apiserver_data_dirs(workdir)
    for data in data_dirs:
        tokens = json.loads((data / "tokens.json").read_text())
        found[f"{data.name} admin token"] = tokens["admin"]
        for cluster, token in tokens["clusters"].items():
            found[f"API server token of {cluster}"] = token
    for key in (*(data / "ca.key" for data in data_dirs), workdir / "hub-state" / "ca.key"):
        body = [line for line in key.read_text().splitlines() if not line.startswith("-----")]
        found[f"{key.parent.name}/ca.key"] = body[0]
    return found


def leaks(workdir: Path, secrets: dict[str, str]) -> list[str]:
    """`<file>: <credential name>` for every credential found outside the stores."""
    found: list[str] = []
    for path in sorted(workdir.rglob("*")):
        relative = path.relative_to(workdir)
        if not path.is_file() or is_store(relative.parts[0]):
            continue
        text = path.read_text(errors="replace")
        found += [f"{relative}: {name}" for name, value in secrets.items() if value in text]
    return found
