"""Packet faults on real nodes: loss with iptables' statistic match; delay, duplication and
reordering with ``tc netem``.

netem is a kernel module (sch_netem) that not every kernel has. It is probed when the
nemesis is set up, by adding a netem qdisc to a node's own interface (inside the run's
namespace) and removing it again; without it, the nemesis refuses to run and says what is
missing, rather than running a test without the fault.
"""

from __future__ import annotations

from typing import Any

from splitbrain.harness.base.history import Op
from splitbrain.harness.base.protocols import RunContext
from splitbrain.harness.control.node import Node, undo_later, undone
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

NETEM_BEHAVIORS: dict[str, list[str]] = {
    "delay": ["delay", "50ms", "10ms", "distribution", "normal"],
    "duplicate": ["duplicate", "5%"],
    "reorder": ["reorder", "25%", "50%"],
}
REORDER_DELAY = ["delay", "10ms"]
"""netem reorders only delayed packets: reordering alone delays the others this much."""
BEHAVIORS = ("loss", *NETEM_BEHAVIORS)

VARIANTS: dict[str, tuple[str, ...]] = {
    "packet": ("loss", "delay"),
    "packet-loss": ("loss",),
    "packet-delay": ("delay",),
    "packet-duplicate": ("duplicate",),
    "packet-reorder": ("reorder",),
}
"""Nemesis names and the behaviors each injects."""


class PacketNemesis:
    """``start-packet`` (value: node names, or None for all) and ``stop-packet``."""

    name = "packet"

    def __init__(self, behaviors: tuple[str, ...] = ("loss",), loss: float = 0.2) -> None:
        unknown = [b for b in behaviors if b not in BEHAVIORS]
        if unknown:
            raise NemesisUnsupported(
                f"unknown packet behavior {unknown[0]!r}; known: {', '.join(BEHAVIORS)}"
            )
        if not 0 < loss <= 1:
            raise NemesisUnsupported(f"packet loss probability must be in (0, 1], got {loss}")
        self.behaviors = tuple(behaviors)
        self.loss = loss
        self.nodes: list[Node] = []
        self.chain = ""
        self.netem_on: list[tuple[Node, int | None]] = []
        self.undo_steps: list[int | None] = []
        self.all_nodes: list[Node] = []

    @property
    def netem_args(self) -> list[str]:
        args: list[str] = []
        if "delay" in self.behaviors:
            args += NETEM_BEHAVIORS["delay"]
        elif "reorder" in self.behaviors:
            args += REORDER_DELAY
        for b in ("duplicate", "reorder"):
            if b in self.behaviors:
                args += NETEM_BEHAVIORS[b]
        return args

    def setup(self, target: Any, ctx: RunContext) -> None:
        nodes = target_nodes(target, self.name)
        if self.netem_args:
            require_netem(nodes[0], [b for b in self.behaviors if b in NETEM_BEHAVIORS])
        self.chain = chain_name("sbpkt", ctx.run_id)
        self.nodes = []
        if "loss" in self.behaviors:
            for node in nodes:
                self.nodes.append(node)
                self.undo_steps.append(add_chain(node, self.chain))
        self.all_nodes = nodes

    def invoke(self, op: Op) -> Op:
        if op.f == "start-packet":
            chosen = self._chosen(op.value)
            self.stop()
            for node in chosen:
                self.start(node)
            return op.completion(
                "info", {"behaviors": list(self.behaviors), "nodes": [n.name for n in chosen]}
            )
        if op.f == "stop-packet":
            self.stop()
            return op.completion("info", "healed")
        return op.completion("fail", op.value, error=f"packet nemesis cannot do {op.f!r}")

    def _chosen(self, value: Any) -> list[Node]:
        if isinstance(value, list) and value:
            return [n for n in self.all_nodes if n.name in value]
        return list(self.all_nodes)

    def start(self, node: Node) -> None:
        if "loss" in self.behaviors:
            iptables(node, "-A", self.chain, "-i", node.interface, "-m", "statistic",
                      "--mode", "random", "--probability", f"{self.loss:g}", "-j", "DROP")  # fmt: skip
        if self.netem_args:
            remove_qdisc = ["tc", "qdisc", "del", "dev", node.interface, "root", "netem"]
            step = undo_later(node, f"netem qdisc on {node.interface}", remove_qdisc)
            added = node.run(
                ["tc", "qdisc", "replace", "dev", node.interface, "root", "netem", *self.netem_args]
            )
            if not added.ok:
                undone(node, step)
                added.check()
            self.netem_on.append((node, step))

    def stop(self) -> None:
        for node in self.nodes:
            iptables(node, "-F", self.chain)
        for node, step in self.netem_on:
            node.run(["tc", "qdisc", "del", "dev", node.interface, "root", "netem"]).check()
            undone(node, step)
        self.netem_on = []

    def teardown(self) -> None:
        for node, step in self.netem_on:
            node.run(["tc", "qdisc", "del", "dev", node.interface, "root", "netem"])
            undone(node, step)
        self.netem_on = []
        for node, step in zip(self.nodes, self.undo_steps, strict=False):
            remove_chain(node, self.chain, step)
        self.nodes, self.undo_steps = [], []


def require_netem(node: Node, behaviors: list[str]) -> None:
    """Add and remove a netem qdisc on the node's interface; refuse clearly if the kernel lacks netem."""
    probe = node.run(["tc", "qdisc", "add", "dev", node.interface, "root", "netem", "delay", "1ms"])
    if probe.ok:
        node.run(["tc", "qdisc", "del", "dev", node.interface, "root", "netem"]).check()
        return
    kernel = node.run(["uname", "-r"]).stdout.strip() or "unknown"
    said = (probe.stderr or probe.stdout).strip() or f"exit {probe.returncode}"
    raise NemesisUnsupported(
        f"packet nemesis: {', '.join(behaviors)} needs tc netem (the sch_netem queueing discipline), "
        f"which kernel {kernel} on {node.name} does not have (`tc qdisc add ... netem` said: {said}); "
        "only packet loss (iptables statistic match, --nemesis packet-loss) works here"
    )


def packet(behaviors: tuple[str, ...]) -> type[PacketNemesis]:
    """A no-argument factory for one variant, as the nemesis registry builds them."""

    class Variant(PacketNemesis):
        def __init__(self) -> None:
            super().__init__(behaviors)

    return Variant


Packet = packet(VARIANTS["packet"])
PacketLoss = packet(VARIANTS["packet-loss"])
PacketDelay = packet(VARIANTS["packet-delay"])
PacketDuplicate = packet(VARIANTS["packet-duplicate"])
PacketReorder = packet(VARIANTS["packet-reorder"])

_PACKET_CYCLE = (("start-packet", "stop-packet"),)
PACKET = NemesisKind(Packet, _PACKET_CYCLE, NETWORK)
PACKET_LOSS = NemesisKind(PacketLoss, _PACKET_CYCLE, NETWORK, "loss")
PACKET_DELAY = NemesisKind(PacketDelay, _PACKET_CYCLE, NETWORK, "delay")
PACKET_DUPLICATE = NemesisKind(PacketDuplicate, _PACKET_CYCLE, NETWORK, "duplicate")
PACKET_REORDER = NemesisKind(PacketReorder, _PACKET_CYCLE, NETWORK, "reorder")
