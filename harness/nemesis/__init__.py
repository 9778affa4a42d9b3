"""Fault injectors. Each is undoable; a name maps to an implementation plus its fault cycle.

The same names mean the same faults everywhere: on real nodes the registry's implementation
runs (iptables rules, signals, tc netem), in the simulator the simulated network does the
same thing in virtual time; both follow the cycles declared here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from splitbrain.harness.generator import Invocation
from splitbrain.harness.history import NEMESIS, Op, call_safely
from splitbrain.harness.protocols import Cycle


@dataclass(frozen=True)
class NemesisKind:
    factory: str
    """``module:callable`` building the nemesis for real nodes."""
    cycle: tuple[tuple[str, str], ...]
    """(start f, stop f) pairs the schedule alternates; every stop f heals at the end."""
    variant: str | None = None
    """The value of each start op: which grudge or packet fault; None lets the nemesis pick."""

    def cycles(self) -> list[Cycle]:
        return [(start, stop, self.variant) for start, stop in self.cycle]


_PARTITION = "splitbrain.harness.nemesis.partition:PartitionNemesis"
_START_PARTITION = (("start-partition", "stop-partition"),)
_START_PACKET = (("start-packet", "stop-packet"),)

NEMESES: dict[str, NemesisKind] = {
    "kill": NemesisKind("splitbrain.harness.nemesis.process:KillNemesis", (("kill", "start"),)),
    "pause": NemesisKind("splitbrain.harness.nemesis.process:PauseNemesis", (("pause", "resume"),)),
    "partition": NemesisKind(_PARTITION, _START_PARTITION),
    "partition-halves": NemesisKind(_PARTITION, _START_PARTITION, "halves"),
    "partition-one": NemesisKind(_PARTITION, _START_PARTITION, "one"),
    "partition-majorities-ring": NemesisKind(_PARTITION, _START_PARTITION, "majorities-ring"),
    "partition-bridge": NemesisKind(_PARTITION, _START_PARTITION, "bridge"),
    "packet": NemesisKind("splitbrain.harness.nemesis.packet:Packet", _START_PACKET),
    "packet-loss": NemesisKind(
        "splitbrain.harness.nemesis.packet:PacketLoss", _START_PACKET, "loss"
    ),
    "packet-delay": NemesisKind(
        "splitbrain.harness.nemesis.packet:PacketDelay", _START_PACKET, "delay"
    ),
    "packet-duplicate": NemesisKind(
        "splitbrain.harness.nemesis.packet:PacketDuplicate", _START_PACKET, "duplicate"
    ),
    "packet-reorder": NemesisKind(
        "splitbrain.harness.nemesis.packet:PacketReorder", _START_PACKET, "reorder"
    ),
    "clock": NemesisKind(
        "splitbrain.harness.nemesis.clock:ClockNemesis",
        (("bump-clock", "reset-clock"), ("strobe-clock", "reset-clock")),
    ),
}

NONE = "none"


def kind(name: str) -> NemesisKind:
    """The registered kind by name; raises KeyError for an unknown one."""
    return NEMESES[name]


def build(name: str) -> Any:
    """A new, not yet set up, nemesis for real nodes."""
    module_name, _, attr = NEMESES[name].factory.partition(":")
    return getattr(importlib.import_module(module_name), attr)()


def heals(cycles: list[Cycle]) -> list[str]:
    """The stop fs that undo every fault of ``cycles``, each once, in order."""
    return list(dict.fromkeys(stop for _, stop, _ in cycles))


def perform(nemesis: Any, inv: Invocation, record: Callable[[Op], Op]) -> Op:
    """One nemesis op: its invocation and its completion, both recorded."""
    invoke = record(Op(type="invoke", f=inv.f, process=NEMESIS, value=inv.value))
    return record(call_safely(nemesis.invoke, invoke))
