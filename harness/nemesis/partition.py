"""Network partitions on real nodes: iptables DROP rules inside each node, in a chain of the run's own.

A *grudge* maps each node to the nodes whose packets it drops, as in Jepsen. Every node
gets the chain ``sbpart-TAG`` hooked into its INPUT chain; a partition fills the chains,
heal flushes them, teardown unhooks and deletes them. No other rule is ever touched.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from splitbrain.harness.control.node import Node
from splitbrain.harness.history import Op
from splitbrain.harness.nemesis import NemesisKind
from splitbrain.harness.nemesis.errors import NemesisUnsupported
from splitbrain.harness.nemesis.nodes import (
    NETWORK,
    add_chain,
    chain_name,
    iptables,
    remove_chain,
    target_nodes,
)
from splitbrain.harness.protocols import RunContext

Grudge = dict[str, set[str]]


def complete_grudge(components: Sequence[Sequence[str]]) -> Grudge:
    """Every node drops every node outside its own component."""
    everyone = {n for c in components for n in c}
    return {n: everyone - set(c) for c in components for n in c}


def bisect(nodes: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split into a smaller first half and a larger second half (Jepsen's ``bisect``)."""
    half = len(nodes) // 2
    return list(nodes[:half]), list(nodes[half:])


def halves(nodes: Sequence[str], rng: random.Random) -> Grudge:
    return complete_grudge(bisect(nodes))


def random_halves(nodes: Sequence[str], rng: random.Random) -> Grudge:
    shuffled = list(nodes)
    rng.shuffle(shuffled)
    return complete_grudge(bisect(shuffled))


def one(nodes: Sequence[str], rng: random.Random) -> Grudge:
    """Isolate one random node from all others."""
    lonely = rng.choice(list(nodes))
    return complete_grudge([[lonely], [n for n in nodes if n != lonely]])


def majorities_ring(nodes: Sequence[str], rng: random.Random) -> Grudge:
    """Each node sees a majority, and no two nodes see the same majority (Jepsen's ring)."""
    shuffled = list(nodes)
    rng.shuffle(shuffled)
    n = len(shuffled)
    m = n // 2 + 1
    grudge: Grudge = {}
    for i in range(n):
        window = [shuffled[(i + j) % n] for j in range(m)]
        center = window[len(window) // 2]
        grudge[center] = set(shuffled) - set(window)
    return grudge


def bridge(nodes: Sequence[str], rng: random.Random) -> Grudge:
    """Two halves that cannot talk, and one node of the larger half that talks to both."""
    shuffled = list(nodes)
    rng.shuffle(shuffled)
    first, second = bisect(shuffled)
    middle = second[0]
    grudge = complete_grudge([first, second])
    grudge[middle] = set()
    return {n: drops - {middle} for n, drops in grudge.items()}


GRUDGES: dict[str, Callable[[Sequence[str], random.Random], Grudge]] = {
    "halves": halves,
    "random-halves": random_halves,
    "one": one,
    "majorities-ring": majorities_ring,
    "bridge": bridge,
}


class PartitionNemesis:
    """``start-partition`` (value: a grudge name, or None for the default) and ``stop-partition``."""

    name = "partition"

    def __init__(self, grudge: str = "random-halves") -> None:
        if grudge not in GRUDGES:
            raise NemesisUnsupported(
                f"unknown partition grudge {grudge!r}; known: {', '.join(GRUDGES)}"
            )
        self.grudge = grudge
        self.nodes: list[Node] = []
        self.chain = ""
        self.undo_steps: list[int | None] = []
        self.rng = random.Random(0)
        self.active: Grudge = {}

    def setup(self, target: Any, ctx: RunContext) -> None:
        self.nodes = target_nodes(target, self.name)
        self.chain = chain_name("sbpart", ctx.run_id)
        self.rng = random.Random(ctx.rng.random())
        self.undo_steps = [add_chain(node, self.chain) for node in self.nodes]

    def invoke(self, op: Op) -> Op:
        if op.f == "start-partition":
            name = op.value if isinstance(op.value, str) else self.grudge
            if name not in GRUDGES:
                return _done(op, "fail", op.value, f"unknown grudge {name!r}")
            grudge = GRUDGES[name]([n.name for n in self.nodes], self.rng)
            self.partition(grudge)
            value = {
                "grudge": name,
                "drops": {n: sorted(d) for n, d in sorted(grudge.items()) if d},
            }
            return _done(op, "info", value)
        if op.f == "stop-partition":
            self.heal()
            return _done(op, "info", "healed")
        return _done(op, "fail", op.value, f"partition nemesis cannot do {op.f!r}")

    def partition(self, grudge: Grudge) -> None:
        """Replace the active partition by ``grudge``."""
        address = {n.name: n.address for n in self.nodes}
        self.heal()
        self.active = grudge
        for node in self.nodes:
            for source in sorted(grudge.get(node.name, ())):
                iptables(node, "-A", self.chain, "-s", address[source], "-j", "DROP")

    def heal(self) -> None:
        for node in self.nodes:
            iptables(node, "-F", self.chain)
        self.active = {}

    def teardown(self) -> None:
        """Unhook and delete the run's chain on every node; tolerates nodes already gone."""
        for node, step in zip(self.nodes, self.undo_steps, strict=False):
            remove_chain(node, self.chain, step)
        self.nodes, self.undo_steps = [], []


def _done(op: Op, typ: str, value: Any, error: str | None = None) -> Op:
    return op.completion(typ, value, error=error)


def _variant(grudge: str) -> type[PartitionNemesis]:
    """A no-argument factory for one grudge, as the nemesis registry builds them."""

    class Variant(PartitionNemesis):
        def __init__(self) -> None:
            super().__init__(grudge)

    Variant.__name__ = f"Partition[{grudge}]"
    return Variant


PartitionHalves = _variant("halves")
PartitionRandomHalves = _variant("random-halves")
PartitionOne = _variant("one")
PartitionMajoritiesRing = _variant("majorities-ring")
PartitionBridge = _variant("bridge")

_PARTITION_CYCLE = (("start-partition", "stop-partition"),)
PARTITION = NemesisKind(PartitionRandomHalves, _PARTITION_CYCLE, NETWORK)
PARTITION_HALVES = NemesisKind(PartitionHalves, _PARTITION_CYCLE, NETWORK)
PARTITION_ONE = NemesisKind(PartitionOne, _PARTITION_CYCLE, NETWORK)
PARTITION_MAJORITIES_RING = NemesisKind(PartitionMajoritiesRing, _PARTITION_CYCLE, NETWORK)
PARTITION_BRIDGE = NemesisKind(PartitionBridge, _PARTITION_CYCLE, NETWORK)
