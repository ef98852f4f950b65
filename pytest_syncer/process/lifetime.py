"""`Lifetime` and `SyncLifetime`: the one `async with` (and `with`) protocol every long-lived
object shares.

A class names the methods that begin and end its life, and `async with obj:` calls them::

    class KubeClient(Lifetime, stop="close"): ...          # enter does nothing, exit closes
    class Reflector(Lifetime, start="start", stop="stop"): ...

Either method may be a coroutine function or a plain one. With `stop_failed_start=True` a
start that raises calls the stop method before the error propagates, so a half-started object
leaves nothing behind. `SyncLifetime` is the plain `with` twin (`ServiceProcess`,
`BackgroundAPIServer`), without `stop_failed_start`. Standard library only: every part of
the package may import it.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, Self


class _NamedLifetime:
    """The class keywords both mixins read: which methods begin and end an object's life."""

    _lifetime_start: ClassVar[str | None] = None
    _lifetime_stop: ClassVar[str] = "close"
    _lifetime_stop_failed_start: ClassVar[bool] = False

    def __init_subclass__(
        cls,
        *,
        start: str | None = None,
        stop: str | None = None,
        stop_failed_start: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if start is not None:
            cls._lifetime_start = start
        if stop is not None:
            cls._lifetime_stop = stop
        if stop_failed_start is not None:
            cls._lifetime_stop_failed_start = stop_failed_start


class SyncLifetime(_NamedLifetime):
    """Mixin: `__enter__` calls the method named by `start` (if any) and returns self,
    `__exit__` calls the method named by `stop` (default `close`), whatever the exception."""

    def __enter__(self) -> Self:
        if self._lifetime_start is not None:
            getattr(self, self._lifetime_start)()
        return self

    def __exit__(self, *exc_info: object) -> None:
        getattr(self, self._lifetime_stop)()


class Lifetime(_NamedLifetime):
    """Mixin: `__aenter__` calls the method named by `start` (if any) and returns self,
    `__aexit__` calls the method named by `stop` (default `close`), whatever the exception."""

    async def _lifetime_call(self, name: str) -> None:
        result = getattr(self, name)()
        if inspect.isawaitable(result):
            await result

    async def __aenter__(self) -> Self:
        if self._lifetime_start is not None:
            try:
                await self._lifetime_call(self._lifetime_start)
            except BaseException:
                if self._lifetime_stop_failed_start:
                    await self._lifetime_call(self._lifetime_stop)
                raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._lifetime_call(self._lifetime_stop)
