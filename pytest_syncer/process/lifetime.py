"""`Lifetime`: the one `async with` protocol every long-lived object shares.

A class names the methods that begin and end its life, and `async with obj:` calls them::

    class KubeClient(Lifetime, stop="close"): ...          # enter does nothing, exit closes
    class Reflector(Lifetime, start="start", stop="stop"): ...

Either method may be a coroutine function or a plain one. With `stop_failed_start=True` a
start that raises calls the stop method before the error propagates, so a half-started
object leaves nothing behind. Standard library only: every part of the package may import it.
"""

from __future__ import annotations

import inspect
from types import TracebackType
from typing import Any, ClassVar, Self


class Lifetime:
    """Mixin: `__aenter__` calls the method named by `start` (if any) and returns self,
    `__aexit__` calls the method named by `stop` (default `close`), whatever the exception."""

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

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._lifetime_call(self._lifetime_stop)
