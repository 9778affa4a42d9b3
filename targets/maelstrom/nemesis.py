"""Network faults done by the router: partitions (every grudge splitbrain knows) and
packet faults (loss, duplication, reordering, delay). Kill and pause need nothing of
their own: the registry's process nemeses call the target's kill/start/pause/resume."""

from __future__ import annotations

import random
from typing import Any

from splitbrain.harness.history import Op
from splitbrain.harness.nemesis.partition import GRUDGES
from splitbrain.harness.protocols import RunContext

PARTITIONS = {
    "partition": "random-halves",
    "partition-halves": "halves",
    "partition-one": "one",
    "partition-majorities-ring": "majorities-ring",
    "partition-bridge": "bridge",
}
PACKETS: dict[str, dict[str, float]] = {
    "packet": {"loss": 0.1, "duplicate": 0.1, "reorder": 0.3},
    "packet-loss": {"loss": 0.2},
    "packet-duplicate": {"duplicate": 0.2},
    "packet-reorder": {"reorder": 0.5},
    "packet-delay": {"delay_ms": 50.0},
}
NAMES = (*PARTITIONS, *PACKETS)


class RouterPartition:
    """``start-partition`` (value: a grudge name, or None for this nemesis's) and ``stop-partition``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.grudge = PARTITIONS[name]
        self.target: Any = None
        self.rng = random.Random(0)

    def setup(self, target: Any, ctx: RunContext) -> None:
        self.target = target
        self.rng = random.Random(ctx.rng.random())

    def invoke(self, op: Op) -> Op:
        if op.f == "start-partition":
            name = op.value if isinstance(op.value, str) else self.grudge
            if name not in GRUDGES:
                return op.completion("fail", op.value, error=f"unknown grudge {name!r}")
            grudge = GRUDGES[name](self.target.nodes(), self.rng)
            drops = {n: frozenset(d) for n, d in grudge.items() if d}
            self.target.change_faults(lambda f: setattr(f, "drops", drops))
            return op.completion(
                "info", {"grudge": name, "drops": {n: sorted(d) for n, d in sorted(drops.items())}}
            )
        if op.f == "stop-partition":
            self.heal()
            return op.completion("info", "healed")
        return op.completion("fail", op.value, error=f"{self.name} cannot do {op.f!r}")

    def heal(self) -> None:
        if self.target is not None:
            self.target.change_faults(lambda f: setattr(f, "drops", {}))

    def teardown(self) -> None:
        self.heal()


class RouterPacket:
    """``start-packet`` turns this nemesis's packet faults on for every node message; ``stop-packet`` off."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.settings = PACKETS[name]
        self.target: Any = None

    def setup(self, target: Any, ctx: RunContext) -> None:
        self.target = target

    def invoke(self, op: Op) -> Op:
        if op.f == "start-packet":
            settings = self.settings
            self.target.change_faults(lambda f: [setattr(f, k, v) for k, v in settings.items()])
            return op.completion("info", dict(settings))
        if op.f == "stop-packet":
            self.heal()
            return op.completion("info", "healed")
        return op.completion("fail", op.value, error=f"{self.name} cannot do {op.f!r}")

    def heal(self) -> None:
        if self.target is not None:
            off = dict.fromkeys(self.settings, 0.0)
            self.target.change_faults(lambda f: [setattr(f, k, v) for k, v in off.items()])

    def teardown(self) -> None:
        self.heal()


def build(name: str) -> Any:
    if name in PARTITIONS:
        return RouterPartition(name)
    if name in PACKETS:
        return RouterPacket(name)
    return None
