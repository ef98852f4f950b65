"""The tunnel's rules, fuzzed: reconnect delays and the path allow-list."""

from __future__ import annotations

import itertools
import random

from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.tunnel.client import DEFAULT_ALLOWED_PATHS, PathAllowList
from pytest_syncer.tunnel.manager import Backoff

backoffs = st.builds(
    Backoff,
    initial=st.floats(0.001, 10),
    maximum=st.floats(10, 600),
    factor=st.floats(1, 4),
    jitter=st.floats(0, 0.99),
)


@given(backoffs, st.integers(0, 2**32))
def test_backoff_stays_within_its_jitter_and_cap(backoff: Backoff, seed: int) -> None:
    delays = list(itertools.islice(backoff.delays(random.Random(seed)), 40))
    base = backoff.initial
    for delay in delays:
        assert 0 < delay <= backoff.maximum
        assert base * (1 - backoff.jitter) - 1e-9 <= delay <= base * (1 + backoff.jitter) + 1e-9
        base = min(backoff.maximum, base * backoff.factor)


def test_default_backoff_is_kcps_five_seconds_to_five_minutes() -> None:
    delays = list(itertools.islice(Backoff(jitter=0).delays(), 10))
    assert delays == [5, 10, 20, 40, 80, 160, 300, 300, 300, 300]


segment = st.text(alphabet="abcxyz019-_.%2eEfF", min_size=0, max_size=6)


@given(st.lists(segment, max_size=6))
def test_no_dot_segment_or_encoded_separator_passes_the_allow_list(segments: list[str]) -> None:
    path = "/api/" + "/".join(segments)
    allowed = PathAllowList().allows(path)
    parts = path.split("/")[1:]
    sneaky = any(part in ("", ".", "..") for part in parts[:-1]) or parts[-1] in (".", "..")
    encoded = any(code in path.lower() for code in ("%2f", "%2e", "%5c"))
    assert allowed == (not sneaky and not encoded)


@given(st.sampled_from(["/metrics", "/debug/pprof", "/logs/x", "/clusters/a/api", "/", ""]))
def test_paths_outside_the_api_are_refused(path: str) -> None:
    assert not PathAllowList(DEFAULT_ALLOWED_PATHS).allows(path)


@given(st.sampled_from(["/api", "/api/v1/pods?watch=1", "/apis/apps/v1", "/version", "/livez"]))
def test_the_api_itself_is_allowed(path: str) -> None:
    assert PathAllowList().allows(path)
