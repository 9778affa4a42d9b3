"""Network partitions on real nodes: iptables DROP rules inside each node, in a chain of the run's own.

A *grudge* maps each node to the nodes whose packets it drops, as in Jepsen. Every node
gets the chain ``sbpart-TAG`` hooked into its INPUT chain; a partition fills the chains,
heal flushes them, teardown unhooks and deletes them. No other rule is ever touched.
"""

from __future__ import annotations

import random
from typing import Any

from splitbrain.harness.base.history import Op
from splitbrain.harness.base.protocols import RunContext
from splitbrain.harness.control.node import Node
from splitbrain.harness.nemesis import NemesisKind
from splitbrain.harness.nemesis.errors import NemesisUnsupported
from splitbrain.harness.nemesis.grudge import GRUDGES, Grudge, describe
from splitbrain.harness.nemesis.nodes import (
    NETWORK,
    add_chain,
    chain_name,
    iptables,
    remove_chain,
    target_nodes,
)


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
            grudge = self.grudge_of(name, [n.name for n in self.nodes])
            self.partition(grudge)
            return _done(op, "info", {"grudge": name, "drops": describe(grudge)})
        if op.f == "stop-partition":
            self.heal()
            return _done(op, "info", "healed")
        return _done(op, "fail", op.value, f"partition nemesis cannot do {op.f!r}")

    def grudge_of(self, name: str, nodes: list[str]) -> Grudge:
        """The grudge of kind ``name`` over ``nodes``, drawn from this nemesis's random stream."""
        return GRUDGES[name](nodes, self.rng)

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


_CYCLE = (("start-partition", "stop-partition"),)
PARTITION = NemesisKind(PartitionNemesis, _CYCLE, NETWORK)
PARTITION_HALVES = NemesisKind(PartitionNemesis, _CYCLE, NETWORK, "halves")
PARTITION_ONE = NemesisKind(PartitionNemesis, _CYCLE, NETWORK, "one")
PARTITION_MAJORITIES_RING = NemesisKind(PartitionNemesis, _CYCLE, NETWORK, "majorities-ring")
PARTITION_BRIDGE = NemesisKind(PartitionNemesis, _CYCLE, NETWORK, "bridge")
