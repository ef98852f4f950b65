"""`process/lifetime.py`: `async with` calls the named start and stop methods."""

from __future__ import annotations

import pytest

from pytest_syncer.process.lifetime import Lifetime, SyncLifetime


class Closing(Lifetime):
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def close(self) -> None:
        self.calls.append("close")


class Plain(Lifetime, start="begin", stop="end"):
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[str] = []
        self.fail = fail

    def begin(self) -> None:
        self.calls.append("begin")
        if self.fail:
            raise RuntimeError("no start")

    def end(self) -> None:
        self.calls.append("end")


class Careful(Plain, stop_failed_start=True):
    pass


async def test_default_enter_does_nothing_and_exit_closes() -> None:
    closing = Closing()
    async with closing as entered:
        assert entered is closing
        assert closing.calls == []
    assert closing.calls == ["close"]


async def test_named_plain_methods_and_exit_on_error() -> None:
    plain = Plain()

    async def fail_inside() -> None:
        async with plain:
            assert plain.calls == ["begin"]
            raise ValueError

    with pytest.raises(ValueError):
        await fail_inside()
    assert plain.calls == ["begin", "end"]


async def test_failed_start_stops_only_when_asked() -> None:
    plain, careful = Plain(fail=True), Careful(fail=True)
    for obj in (plain, careful):
        with pytest.raises(RuntimeError):
            async with obj:
                pass
    assert plain.calls == ["begin"]
    assert careful.calls == ["begin", "end"]


class Service(SyncLifetime, start="begin", stop="end"):
    def __init__(self) -> None:
        self.calls: list[str] = []

    def begin(self) -> None:
        self.calls.append("begin")

    def end(self) -> None:
        self.calls.append("end")


def test_sync_twin_calls_the_named_methods() -> None:
    service = Service()
    with service as entered:
        assert entered is service
        assert service.calls == ["begin"]
    assert service.calls == ["begin", "end"]
