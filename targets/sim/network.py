"""The simulated network: per-message latency, partitions (grudges) and packet faults.

Links between nodes are FIFO (as TCP) unless the packet nemesis reorders them. A grudge maps
a node to the set of nodes whose messages it drops; it is checked when a message is sent and
again when it arrives, so no message crosses a partition, including one that began while the
message was in flight. Clients talk to nodes over links that partitions and packet faults
leave alone (as the Jepsen control node does).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from splitbrain.targets.sim.nodes import MS, Request

if TYPE_CHECKING:
    from splitbrain.targets.sim.cluster import Sim
    from splitbrain.targets.sim.nodes import Node

PACKET_KINDS = ("loss", "delay", "duplicate", "reorder")


@dataclass(frozen=True, slots=True)
class PacketFaults:
    loss: float = 0.0
    duplicate: float = 0.0
    delay_ms: float = 0.0
    """Extra delay, uniform in 0..delay_ms, for every message."""
    reorder: float = 0.0
    """Share of messages held back by up to 20 ms, so later ones overtake them."""

    def describe(self) -> dict[str, float]:
        return {
            "loss": self.loss,
            "duplicate": self.duplicate,
            "delay-ms": self.delay_ms,
            "reorder": self.reorder,
        }


def packet_faults(kind: str) -> PacketFaults:
    return {
        "loss": PacketFaults(loss=0.2),
        "delay": PacketFaults(delay_ms=100.0),
        "duplicate": PacketFaults(duplicate=0.2),
        "reorder": PacketFaults(reorder=0.3),
    }[kind]


class Network:
    def __init__(self, sim: Sim, rng: random.Random, latency_ms: float) -> None:
        self.sim = sim
        self.rng = rng
        self.nodes: dict[str, Node] = {}
        self.grudge: dict[str, frozenset[str]] = {}
        self.packet: PacketFaults | None = None
        self.lo = max(1, int(latency_ms * MS * 0.5))
        self.span = max(1, int(latency_ms * MS))
        self._random = rng.random
        self._last: dict[str, dict[str, int]] = {}
        """Per link (source, then destination), the last arrival time: links are FIFO."""
        self.sent = 0
        self.dropped = 0

    def attach(self, nodes: dict[str, Node]) -> None:
        self.nodes = nodes
        self._last = {name: {} for name in nodes}

    def blocked(self, src: str, dst: str) -> bool:
        g = self.grudge.get(dst)
        return g is not None and src in g

    def _latency(self) -> int:
        return self.lo + int(self._random() * self.span)

    def send(self, src: str, dst: str, msg: Any) -> None:
        self.sent += 1
        grudge = self.grudge
        if grudge:
            g = grudge.get(dst)
            if g is not None and src in g:
                self.dropped += 1
                return
        t = self.sim.now + self.lo + int(self._random() * self.span)
        faults = self.packet
        if faults is not None:
            if faults.loss and self.rng.random() < faults.loss:
                self.dropped += 1
                return
            t += self._extra(faults)
            deliver = self.nodes[dst].deliver
            if faults.duplicate and self.rng.random() < faults.duplicate:
                self.sim.at(t + self._latency(), deliver, src, msg)
            if faults.reorder:
                self.sim.at(t, deliver, src, msg)
                return
        last = self._last[src]
        if t <= last.get(dst, 0):
            t = last[dst] + 1
        last[dst] = t
        self.sim.at(t, self.nodes[dst].deliver, src, msg)

    def _extra(self, faults: PacketFaults) -> int:
        extra = 0
        if faults.delay_ms:
            extra += int(self.rng.random() * faults.delay_ms * MS)
        if faults.reorder and self.rng.random() < faults.reorder:
            extra += int(self.rng.random() * 20 * MS)
        return extra

    # ------------------------------------------------------------ client links

    def to_node(self, dst: str, req: Request) -> None:
        """A client request; a killed node refuses it (the client learns after one latency)."""
        node = self.nodes[dst]
        t = self.sim.now + self._latency()
        if not node.alive:
            self.sim.at(t, req.port.complete, req.rid, "fail", None, "connection refused", dst)
            return
        self.sim.at(t, node.receive, "client", req)

    def to_client(self, src: str, req: Request, typ: str, value: Any, error: Any) -> None:
        t = self.sim.now + self._latency()
        self.sim.at(t, req.port.complete, req.rid, typ, value, error, src)

    # ------------------------------------------------------------ faults

    def partition(self, grudge: dict[str, frozenset[str]]) -> None:
        self.grudge = {dst: srcs for dst, srcs in sorted(grudge.items()) if srcs}

    def heal(self) -> None:
        self.grudge = {}
