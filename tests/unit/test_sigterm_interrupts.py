"""`sigterm_interrupts`: the first SIGTERM (or Ctrl-C) of `up` and `soak` becomes a
KeyboardInterrupt; a second one, sent while the start-up is still cleaning up after the first
(a supervisor's stop racing a person's, `timeout` firing during a slow stop), is ignored, so
the cleanup stops every process instead of leaving some running."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from pytest_syncer.process.child import sigterm_interrupts


@pytest.fixture(autouse=True)
def restore_handlers() -> Iterator[None]:
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.parametrize("first", [signal.SIGTERM, signal.SIGINT])
def test_the_first_signal_interrupts_and_a_second_cannot_cut_the_cleanup(first: int) -> None:
    cleaned = []
    with sigterm_interrupts():
        try:
            os.kill(os.getpid(), first)
            raise AssertionError("the first signal did not interrupt")
        except KeyboardInterrupt:
            for step in ("syncers", "hub", "apiserver"):
                os.kill(os.getpid(), signal.SIGTERM)
                os.kill(os.getpid(), signal.SIGINT)
                cleaned.append(step)
    assert cleaned == ["syncers", "hub", "apiserver"]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
