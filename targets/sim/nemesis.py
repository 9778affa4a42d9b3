"""Simulated faults with the same names as on real nodes: partition, packet, kill, pause, clock.

``invoke(f)`` performs one nemesis op at the current virtual time and returns the value that
goes in its completion (the grudge, the nodes hit, the clock deltas).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from splitbrain.targets.sim.cluster import PARTITIONS, Cluster
from splitbrain.targets.sim.network import PACKET_KINDS, packet_faults
from splitbrain.targets.sim.nodes import MS, Strobe

Grudge = dict[str, frozenset[str]]

CYCLES: dict[str, tuple[tuple[str, str], ...]] = {
    "partition": (("start-partition", "stop-partition"),),
    "packet": (("start-packet", "stop-packet"),),
    "kill": (("kill", "start"),),
    "pause": (("pause", "resume"),),
    "clock": (("bump-clock", "reset-clock"), ("strobe-clock", "reset-clock")),
}
"""The sim's fault cycles; the clock alternates a bump and a strobe, each undone by a reset."""

VARIANTS: dict[str, tuple[str, ...]] = {"partition": PARTITIONS, "packet": PACKET_KINDS}
"""``--nemesis partition-halves`` fixes the grudge, ``packet-loss`` the packet fault."""

NAMES = frozenset([*CYCLES, *(f"{b}-{v}" for b, vs in VARIANTS.items() for v in vs)])
"""Every ``--nemesis`` name the sim simulates."""


def _cut(a: list[str], b: list[str]) -> Grudge:
    grudge: Grudge = {x: frozenset(b) for x in a}
    grudge.update({y: frozenset(a) for y in b})
    return grudge


def halves(nodes: list[str], rng: random.Random) -> Grudge:
    mid = len(nodes) // 2
    return _cut(nodes[:mid], nodes[mid:])


def random_halves(nodes: list[str], rng: random.Random) -> Grudge:
    shuffled = list(nodes)
    rng.shuffle(shuffled)
    return halves(shuffled, rng)


def one(nodes: list[str], rng: random.Random) -> Grudge:
    lone = rng.choice(nodes)
    return _cut([lone], [n for n in nodes if n != lone])


def majorities_ring(nodes: list[str], rng: random.Random) -> Grudge:
    """Each node sees a majority (its ring neighbours), and no two see the same one."""
    ring = list(nodes)
    rng.shuffle(ring)
    size = len(ring)
    reach = (size // 2 + 1) // 2
    grudge: Grudge = {}
    for i, node in enumerate(ring):
        far = [m for j, m in enumerate(ring) if min((i - j) % size, (j - i) % size) > reach]
        grudge[node] = frozenset(far)
    return grudge


def bridge(nodes: list[str], rng: random.Random) -> Grudge:
    """Two halves that cannot talk, and one node in the middle that talks to both."""
    shuffled = list(nodes)
    rng.shuffle(shuffled)
    mid = len(shuffled) // 2
    return _cut(shuffled[:mid], shuffled[mid + 1 :])


GRUDGES: dict[str, Callable[[list[str], random.Random], Grudge]] = {
    "halves": halves,
    "random-halves": random_halves,
    "one": one,
    "majorities-ring": majorities_ring,
    "bridge": bridge,
}
assert tuple(GRUDGES) == PARTITIONS


def describe(grudge: Grudge) -> dict[str, list[str]]:
    return {dst: sorted(srcs) for dst, srcs in sorted(grudge.items()) if srcs}


class SimNemesis:
    def __init__(self, cluster: Cluster, rng: random.Random) -> None:
        self.cluster = cluster
        self.config = cluster.config
        self.rng = rng
        self._ops: dict[str, Callable[[Any], Any]] = {
            "start-partition": self._partition,
            "stop-partition": self._heal,
            "start-packet": self._packet,
            "stop-packet": self._unpacket,
            "kill": self._kill,
            "start": self._start,
            "pause": self._pause,
            "resume": self._resume,
            "bump-clock": self._bump,
            "strobe-clock": self._strobe,
            "reset-clock": self._reset,
        }

    def invoke(self, f: str, variant: Any = None) -> Any:
        return self._ops[f](variant)

    def _pick(self, option: str, choices: tuple[str, ...], variant: Any = None) -> str:
        if variant is not None:
            return str(variant)
        return self.rng.choice(choices) if option == "random" else option

    # ------------------------------------------------------------ partitions

    def _partition(self, variant: Any = None) -> dict[str, Any]:
        kind = self._pick(self.config.partition, tuple(GRUDGES), variant)
        grudge = GRUDGES[kind](list(self.cluster.names), self.rng)
        self.cluster.net.partition(grudge)
        value = describe(grudge)
        self.cluster.note("grudge", value)
        return {"kind": kind, "grudge": value}

    def _heal(self, variant: Any = None) -> str:
        self.cluster.net.heal()
        self.cluster.note("grudge", {})
        return "fully connected"

    # ------------------------------------------------------------ packets

    def _packet(self, variant: Any = None) -> dict[str, Any]:
        kind = self._pick(self.config.packet, PACKET_KINDS, variant)
        faults = packet_faults(kind)
        self.cluster.net.packet = faults
        return {"kind": kind, **faults.describe()}

    def _unpacket(self, variant: Any = None) -> str:
        self.cluster.net.packet = None
        return "normal"

    # ------------------------------------------------------------ processes

    def _targets(self, option: str, among: list[str]) -> list[str]:
        if not among:
            return []
        how = self._pick(option, ("one", "leader", "minority"))
        size = len(self.cluster.names)
        if how == "leader":
            leader = self.cluster.leader()
            return [leader] if leader in among else [self.rng.choice(among)]
        if how == "one":
            return [self.rng.choice(among)]
        count = {"minority": (size - 1) // 2, "majority": size // 2 + 1, "all": size}[how]
        return sorted(self.rng.sample(among, max(1, min(count, len(among)))))

    def _kill(self, variant: Any = None) -> list[str]:
        live = [n for n in self.cluster.names if self.cluster.nodes[n].alive]
        hit = self._targets(self.config.kill, live)
        for name in hit:
            self.cluster.kill(name)
        return hit

    def _start(self, variant: Any = None) -> list[str]:
        dead = [n for n in self.cluster.names if not self.cluster.nodes[n].alive]
        for name in dead:
            self.cluster.restart(name)
        return dead

    def _pause(self, variant: Any = None) -> list[str]:
        nodes = self.cluster.nodes
        running = [n for n in self.cluster.names if nodes[n].alive and not nodes[n].paused]
        hit = self._targets(self.config.pause, running)
        for name in hit:
            self.cluster.note("pause", name)
            nodes[name].pause()
        return hit

    def _resume(self, variant: Any = None) -> list[str]:
        nodes = self.cluster.nodes
        paused = [n for n in self.cluster.names if nodes[n].paused]
        for name in paused:
            self.cluster.note("resume", name)
            nodes[name].resume()
        return paused

    # ------------------------------------------------------------ clocks

    def _clock_targets(self) -> list[str]:
        names = list(self.cluster.names)
        return sorted(self.rng.sample(names, self.rng.randint(1, len(names))))

    def _bump(self, variant: Any = None) -> dict[str, float]:
        skew = self.config.clock_skew_ms
        out: dict[str, float] = {}
        for name in self._clock_targets():
            delta_ms = round(self.rng.uniform(-skew, skew), 3)
            self.cluster.nodes[name].offset += int(delta_ms * MS)
            out[name] = delta_ms
        return out

    def _strobe(self, variant: Any = None) -> dict[str, dict[str, float]]:
        skew = self.config.clock_skew_ms
        out: dict[str, dict[str, float]] = {}
        for name in self._clock_targets():
            delta_ms = round(self.rng.uniform(-skew, skew), 3)
            period_ms = self.rng.randint(1, 200)
            self.cluster.nodes[name].strobe = Strobe(int(delta_ms * MS), period_ms * MS)
            out[name] = {"delta-ms": delta_ms, "period-ms": period_ms}
        return out

    def _reset(self, variant: Any = None) -> list[str]:
        skewed = []
        for name in self.cluster.names:
            node = self.cluster.nodes[name]
            if node.offset or node.strobe is not None:
                skewed.append(name)
            node.offset = 0
            node.strobe = None
        return skewed
