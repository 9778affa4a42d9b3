"""Simulated faults with the same names as on real nodes: partition, packet, kill, pause, clock.

``invoke(op)`` performs one nemesis op at the current virtual time; its completion's value
is the grudge, the nodes hit, or the clock deltas. Grudges come from the module real nodes
use (``harness.nemesis.grudge``), so a partition kind cuts the same links in both.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from splitbrain.harness.base.history import Op
from splitbrain.harness.base.protocols import RunContext
from splitbrain.harness.nemesis.grudge import GRUDGES, describe
from splitbrain.targets.sim.cluster import PARTITIONS, Cluster
from splitbrain.targets.sim.network import PACKET_KINDS, packet_faults
from splitbrain.targets.sim.nodes import MS, Strobe

assert tuple(GRUDGES) == PARTITIONS

NAMES = frozenset(
    ["partition", "packet", "kill", "pause", "clock"]
    + [f"partition-{kind}" for kind in PARTITIONS]
    + [f"packet-{kind}" for kind in PACKET_KINDS]
)
"""Every ``--nemesis`` name the sim simulates."""


class SimNemesis:
    """Every fault kind at once, on the simulated cluster."""

    name = "sim"

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

    def setup(self, target: Any, ctx: RunContext) -> None:
        pass

    def invoke(self, op: Op) -> Op:
        return op.completion("info", self._ops[op.f](op.value))

    def teardown(self) -> None:
        pass

    def _pick(self, option: str, choices: tuple[str, ...], variant: Any = None) -> str:
        if variant is not None:
            return str(variant)
        return self.rng.choice(choices) if option == "random" else option

    # ------------------------------------------------------------ partitions

    def _partition(self, variant: Any = None) -> dict[str, Any]:
        kind = self._pick(self.config.partition, tuple(GRUDGES), variant)
        grudge = GRUDGES[kind](list(self.cluster.names), self.rng)
        self.cluster.net.partition(grudge)
        drops = describe(grudge)
        self.cluster.note("grudge", drops)
        return {"grudge": kind, "drops": drops}

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
