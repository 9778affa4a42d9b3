"""Every routing decision of a Maelstrom run, drawn from the run's seed.

Each directed link (src, dest) has its own random stream, seeded from the run's seed and
the two ids, and every message on it draws the same four numbers whatever faults are on:
so the k-th message from n1 to n2 gets the same latency, loss, duplication and reordering
decisions in every run with that seed, however threads and processes interleave.
Client messages (to or from a client) have no latency and no faults, as in Maelstrom;
node-to-node and node-to-service messages have both. Partitions cut nodes only.
"""

from __future__ import annotations

import functools
import hashlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

LATENCY_DISTS = ("constant", "uniform", "exponential")
REORDER_SPREAD_MS = 20.0
"""A reordered message is held back up to this much more than its latency."""


@functools.cache
def is_client(node_id: str) -> bool:
    return node_id.startswith("c") and node_id[1:].isdigit()


def latency_sampler(mean_ms: float, dist: str) -> Callable[[float], float]:
    """Milliseconds from a uniform draw u in [0, 1): ``--latency`` is the mean of every
    distribution (constant: exactly it; uniform: on [0, 2*mean]; exponential: that mean)."""
    if dist == "constant":
        return lambda u: mean_ms
    if dist == "uniform":
        return lambda u: 2.0 * mean_ms * u
    if dist == "exponential":
        return lambda u: -mean_ms * math.log(1.0 - u)
    raise ValueError(f"unknown latency distribution {dist!r}; known: {', '.join(LATENCY_DISTS)}")


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to one message: dropped (and why), or delivered after ``delays_ms``
    (two entries when it is duplicated)."""

    delays_ms: tuple[float, ...]
    dropped: str | None = None


@dataclass
class Faults:
    """The network faults in force; changed by the nemeses, read by the router thread."""

    drops: dict[str, frozenset[str]] = field(default_factory=dict)
    """Partition grudge: a node drops every message from the nodes listed for it."""
    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    delay_ms: float = 0.0
    """Added to the latency of every node message."""


def link_seed(seed: int, src: str, dest: str) -> int:
    digest = hashlib.blake2b(f"{seed}\x00{src}\x00{dest}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class Network:
    """Decides each message's fate from its link's stream and the faults in force."""

    def __init__(self, seed: int, latency_ms: float = 0.0, dist: str = "constant") -> None:
        self.seed = seed
        self.sample = latency_sampler(latency_ms, dist)
        self.faults = Faults()
        self._links: dict[tuple[str, str], random.Random] = {}

    def _stream(self, src: str, dest: str) -> random.Random:
        key = (src, dest)
        rng = self._links.get(key)
        if rng is None:
            rng = self._links[key] = random.Random(link_seed(self.seed, src, dest))
        return rng

    def decide(self, src: str, dest: str) -> Decision:
        if is_client(src) or is_client(dest):
            return Decision((0.0,))
        r = self._stream(src, dest).random
        u_latency, u_loss, u_dup, u_reorder = r(), r(), r(), r()
        faults = self.faults
        if src in faults.drops.get(dest, ()):
            return Decision((), "partition")
        if u_loss < faults.loss:
            return Decision((), "loss")
        delay = self.sample(u_latency) + faults.delay_ms
        if faults.reorder and u_reorder < faults.reorder:
            delay += REORDER_SPREAD_MS * u_reorder / faults.reorder
        if u_dup < faults.duplicate:
            return Decision((delay, delay + self.sample(u_reorder)))
        return Decision((delay,))
