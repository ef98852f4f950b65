"""An embedded Kubernetes-compatible API server serving many logical clusters from one process.

The server classes load on first use, so importing a pure module of this package (selectors,
validation, certs...) does not pull in aiohttp and the store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_syncer.apiserver.server import BackgroundAPIServer, EmbeddedAPIServer

__all__ = ["BackgroundAPIServer", "EmbeddedAPIServer"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from pytest_syncer.apiserver import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
