"""Network faults done by the router: partitions (every grudge splitbrain knows) and
packet faults (loss, duplication, reordering, delay). Kill and pause need nothing of
their own: the registry's process nemeses call the target's kill/start/pause/resume."""

from __future__ import annotations

import random
from typing import Any

from splitbrain.harness.base.history import Op
from splitbrain.harness.base.protocols import RunContext
from splitbrain.harness.nemesis.partition import GRUDGES

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


class _RouterFault:
    """A fault the router injects: ``START`` turns it on, ``STOP`` (and teardown) off."""

    START = ""
    STOP = ""

    def __init__(self, name: str) -> None:
        self.name = name
        self.target: Any = None
        self.rng = random.Random(0)

    def setup(self, target: Any, ctx: RunContext) -> None:
        self.target = target
        self.rng = random.Random(ctx.rng.random())

    def invoke(self, op: Op) -> Op:
        if op.f == self.START:
            return self.start(op)
        if op.f == self.STOP:
            self.heal()
            return op.completion("info", "healed")
        return op.completion("fail", op.value, error=f"{self.name} cannot do {op.f!r}")

    def start(self, op: Op) -> Op:
        raise NotImplementedError

    def heal(self) -> None:
        raise NotImplementedError

    def teardown(self) -> None:
        if self.target is not None:
            self.heal()


class RouterPartition(_RouterFault):
    """``start-partition`` (value: a grudge name, or None for this nemesis's) and ``stop-partition``."""

    START, STOP = "start-partition", "stop-partition"

    def start(self, op: Op) -> Op:
        name = op.value if isinstance(op.value, str) else PARTITIONS[self.name]
        if name not in GRUDGES:
            return op.completion("fail", op.value, error=f"unknown grudge {name!r}")
        grudge = GRUDGES[name](self.target.nodes(), self.rng)
        drops = {n: frozenset(d) for n, d in grudge.items() if d}
        self.target.change_faults(lambda f: setattr(f, "drops", drops))
        shown = {n: sorted(d) for n, d in sorted(drops.items())}
        return op.completion("info", {"grudge": name, "drops": shown})

    def heal(self) -> None:
        self.target.change_faults(lambda f: setattr(f, "drops", {}))


class RouterPacket(_RouterFault):
    """``start-packet`` turns this nemesis's packet faults on for every node message; ``stop-packet`` off."""

    START, STOP = "start-packet", "stop-packet"

    def _set(self, settings: dict[str, float]) -> None:
        self.target.change_faults(lambda f: [setattr(f, k, v) for k, v in settings.items()])

    def start(self, op: Op) -> Op:
        self._set(PACKETS[self.name])
        return op.completion("info", dict(PACKETS[self.name]))

    def heal(self) -> None:
        self._set(dict.fromkeys(PACKETS[self.name], 0.0))


def build(name: str) -> Any:
    if name in PARTITIONS:
        return RouterPartition(name)
    if name in PACKETS:
        return RouterPacket(name)
    return None
