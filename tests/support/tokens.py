"""Bearer tokens as tests hold them: read from a kubeconfig, sent in an Authorization header."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def token_of(kubeconfig: str | Path, context: str | None = None) -> str:
    """The token of a context's user (the current context's by default), read from the
    kubeconfig format itself rather than through the code under test."""
    document: dict[str, Any] = yaml.safe_load(Path(kubeconfig).read_text())
    name = document["current-context"] if context is None else context
    (chosen,) = [entry["context"] for entry in document["contexts"] if entry["name"] == name]
    (user,) = [entry["user"] for entry in document["users"] if entry["name"] == chosen["user"]]
    token: str = user["token"]
    return token


def bearer(token: str) -> dict[str, str]:
    """The Authorization header that presents ``token``."""
    return {"Authorization": f"Bearer {token}"}
