"""What a faulty link does to the bytes it carries, without sockets: per direction, added
latency with seeded jitter, a bandwidth limit and a blackhole, and when each chunk may be
delivered. The proxy asks this model; the model is tested on its own."""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from typing import Literal

Direction = Literal["out", "in"]
"""`out`: from the syncer to its peer (the API server or the hub); `in`: back to the syncer."""
DIRECTIONS: tuple[Direction, ...] = ("out", "in")
Which = Literal["both", "out", "in"]
LINK_KINDS = ("upstream", "downstream", "tunnel")
"""A syncer's three links: to the upstream API, to its target's cluster, to the hub's tunnel."""


def directions(which: Which) -> tuple[Direction, ...]:
    if which == "both":
        return DIRECTIONS
    if which not in DIRECTIONS:
        raise ValueError(f"direction must be 'both', 'out' or 'in', not {which!r}")
    return (which,)


@dataclass
class Shaping:
    """One direction's faults; the default passes bytes as they come."""

    latency: float = 0.0
    """Seconds added to every chunk."""
    jitter: float = 0.0
    """Up to this many seconds more, drawn per chunk from the link's seeded generator (never
    less than `latency`, so a test can rely on the configured figure as a floor)."""
    bytes_per_second: float | None = None
    blackhole: bool = False
    """Bytes are accepted and dropped, and neither FIN nor RST is passed on: the silent peer."""
    busy_until: float = 0.0
    """When the direction's bandwidth is free again: shared by every connection of the link."""

    @property
    def passes(self) -> bool:
        return not self.blackhole and self.latency == 0 and self.bytes_per_second is None


class LinkModel:
    """A link's faults in both directions and whether it refuses connections."""

    def __init__(self, name: str, seed: int, baseline: tuple[float, float] = (0.0, 0.0)) -> None:
        self.name = name
        self.baseline = baseline
        """Latency and jitter (seconds) the link has when healthy: `heal` returns to it."""
        self.shaping = self._healthy()
        self.refusing = False
        """Reset: open connections were torn down with RST and new ones get RST too."""
        self._random = random.Random(seed * 1_000_003 + zlib.crc32(name.encode()))

    def latency(self, seconds: float, jitter: float = 0.0, which: Which = "both") -> None:
        if seconds < 0 or jitter < 0:
            raise ValueError(f"latency and jitter must be >= 0, not {seconds}, {jitter}")
        for direction in directions(which):
            self.shaping[direction].latency = seconds
            self.shaping[direction].jitter = jitter

    def bandwidth(self, bytes_per_second: float, which: Which = "both") -> None:
        if bytes_per_second <= 0:
            raise ValueError(f"bandwidth must be > 0 bytes per second, not {bytes_per_second}")
        for direction in directions(which):
            self.shaping[direction].bytes_per_second = bytes_per_second

    def blackhole(self, which: Which = "both") -> None:
        for direction in directions(which):
            self.shaping[direction].blackhole = True

    def _healthy(self) -> dict[Direction, Shaping]:
        latency, jitter = self.baseline
        return {direction: Shaping(latency, jitter) for direction in DIRECTIONS}

    def heal(self) -> None:
        self.shaping = self._healthy()
        self.refusing = False

    def blackholed(self, direction: Direction) -> bool:
        return self.shaping[direction].blackhole

    def deliver_at(self, direction: Direction, now: float, size: int, after: float) -> float:
        """When a chunk of `size` bytes read at `now` reaches the other end: it waits for the
        direction's bandwidth, then the latency; never before the chunk read before it
        (`after`), as TCP keeps order."""
        shaping = self.shaping[direction]
        done = now
        if shaping.bytes_per_second is not None and size:
            start = max(now, shaping.busy_until)
            done = shaping.busy_until = start + size / shaping.bytes_per_second
        delay = shaping.latency
        if shaping.jitter:
            delay += self._random.uniform(0.0, shaping.jitter)
        return max(done + delay, after)

    def describe(self) -> str:
        """`out: latency 0.2s+0.05s; in: blackhole` or `passes`: for failure messages."""
        if self.refusing:
            return "reset (refusing)"
        parts = []
        for direction, shaping in self.shaping.items():
            if shaping.passes:
                continue
            what = []
            if shaping.blackhole:
                what.append("blackhole")
            if shaping.latency or shaping.jitter:
                what.append(f"latency {shaping.latency:g}s+{shaping.jitter:g}s")
            if shaping.bytes_per_second is not None:
                what.append(f"{shaping.bytes_per_second:g} B/s")
            parts.append(f"{direction}: {', '.join(what)}")
        return "; ".join(parts) or "passes"
