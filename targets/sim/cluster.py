"""The discrete-event loop, the validated options, and a cluster of simulated replicas."""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from splitbrain.harness.base.options import option_bool, option_choice, option_float, option_int
from splitbrain.harness.base.protocols import HarnessInputError
from splitbrain.targets.sim.leader_async import AsyncLeaderNode
from splitbrain.targets.sim.leader_sync import RaftNode
from splitbrain.targets.sim.leaderless import LeaderlessNode
from splitbrain.targets.sim.multi_leader import MultiLeaderNode
from splitbrain.targets.sim.network import PACKET_KINDS, Network
from splitbrain.targets.sim.nodes import Node

MODES = ("leader-sync", "leader-async", "multi-leader", "leaderless")
PARTITIONS = ("halves", "random-halves", "one", "majorities-ring", "bridge")
TARGETS = ("one", "leader", "minority", "majority", "all")
MAX_NODES = 25

DEFAULTS: dict[str, str] = {
    "replication": "leader-sync",
    "nodes": "5",
    "latency": "1",
    "n": "3",
    "r": "2",
    "w": "2",
    "sloppy": "false",
    "partition": "random",
    "kill": "random",
    "pause": "random",
    "packet": "random",
    "clock": "random",
    "clock-skew": "10000",
    "node-reads": "false",
}
"""Every accepted ``-o`` key with its default."""


class Sim:
    """A single-threaded event loop in virtual nanoseconds."""

    def __init__(self) -> None:
        self.now = 0
        self._heap: list[tuple[int, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = 0
        self.halt = False
        self.events = 0

    def at(self, t: int, fn: Callable[..., None], *args: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, fn, args))

    def run(self, until: int) -> None:
        """Run events up to virtual time ``until``, or until something sets ``halt``."""
        heap = self._heap
        pop = heapq.heappop
        self.halt = False
        n = 0
        while heap and heap[0][0] <= until:
            t, _, fn, args = pop(heap)
            self.now = t
            fn(*args)
            n += 1
            if self.halt:
                break
        else:
            self.now = max(self.now, until)
        self.events += n


@dataclass(frozen=True)
class Config:
    replication: str
    nodes: int
    latency_ms: float
    n: int
    r: int
    w: int
    sloppy: bool
    partition: str
    kill: str
    pause: str
    packet: str
    clock: str
    clock_skew_ms: float
    node_reads: bool


def parse_config(given: dict[str, str]) -> Config:
    """Validate ``-o`` options; raises HarnessInputError naming the bad key and value."""
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise HarnessInputError(
            f"unknown -o key {unknown[0]!r} for target 'sim'; known: {', '.join(sorted(DEFAULTS))}"
        )
    o = DEFAULTS | given
    nodes = option_int(o, "nodes", 1, MAX_NODES)
    # Defaults the user did not set shrink to fit a small cluster; only given values are refused.
    if "n" not in given:
        o["n"] = str(min(int(DEFAULTS["n"]), nodes))
    n = option_int(o, "n", 1, MAX_NODES)
    if n > nodes:
        raise HarnessInputError(f"-o n={n}: more replicas than nodes ({nodes})")
    for key in ("r", "w"):
        if key not in given:
            o[key] = str(min(int(DEFAULTS[key]), n))
    r = option_int(o, "r", 1, MAX_NODES)
    w = option_int(o, "w", 1, MAX_NODES)
    for key, v in (("r", r), ("w", w)):
        if v > n:
            raise HarnessInputError(f"-o {key}={v}: more than the {n} replicas of a key (-o n)")
    return Config(
        replication=option_choice(o, "replication", MODES),
        nodes=nodes,
        latency_ms=option_float(o, "latency", 0.0, 1000.0),
        n=n,
        r=r,
        w=w,
        sloppy=option_bool(o, "sloppy"),
        partition=option_choice(o, "partition", ("random", *PARTITIONS)),
        kill=option_choice(o, "kill", ("random", *TARGETS)),
        pause=option_choice(o, "pause", ("random", *TARGETS)),
        packet=option_choice(o, "packet", ("random", *PACKET_KINDS)),
        clock=option_choice(o, "clock", ("random", "bump", "strobe")),
        clock_skew_ms=option_float(o, "clock-skew", 0.0, 3.6e6),
        node_reads=option_bool(o, "node-reads"),
    )


NODE_CLASSES: dict[str, type[Node]] = {
    "leader-sync": RaftNode,
    "leader-async": AsyncLeaderNode,
    "multi-leader": MultiLeaderNode,
    "leaderless": LeaderlessNode,
}
assert tuple(NODE_CLASSES) == MODES


class Cluster:
    """The replicas, the network between them, and the one random stream they all draw from."""

    def __init__(self, config: Config, rng: random.Random, kind: str, audit: bool = False) -> None:
        self.config = config
        self.kind = kind
        self.sim = Sim()
        self.rng = rng
        self.audit: list[tuple[Any, ...]] | None = [] if audit else None
        self.names = [f"n{i + 1}" for i in range(config.nodes)]
        self.net = Network(self.sim, rng, config.latency_ms)
        cls = NODE_CLASSES[config.replication]
        self.nodes: dict[str, Node] = {}
        for name in self.names:
            self.nodes[name] = cls(name, self)
        self.net.attach(self.nodes)
        for name in self.names:
            self.nodes[name].start_ticking()

    def leader(self) -> str | None:
        """The live node that believes it leads with the highest term, if the mode has one."""
        best: tuple[int, str] | None = None
        for name in self.names:
            node = self.nodes[name]
            if node.alive and node.is_leader():
                term = getattr(node, "term", 0)
                if best is None or term > best[0]:
                    best = (term, name)
        return best[1] if best else None

    def note(self, *entry: Any) -> None:
        if self.audit is not None:
            self.audit.append((self.sim.now, *entry))

    def kill(self, name: str) -> None:
        self.note("kill", name)
        self.nodes[name].kill()

    def restart(self, name: str) -> None:
        self.note("start", name)
        self.nodes[name].restart()

    def summary(self) -> dict[str, Any]:
        return {
            "replication": self.config.replication,
            "virtual_ns": self.sim.now,
            "events": self.sim.events,
            "messages_sent": self.net.sent,
            "messages_dropped": self.net.dropped,
            "nodes": {
                name: {
                    "alive": node.alive,
                    "leader": node.is_leader(),
                    "handled": node.messages_handled,
                }
                for name, node in self.nodes.items()
            },
        }
