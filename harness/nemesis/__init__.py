"""Fault injectors. Each is undoable; a name maps to an implementation plus its fault cycle.

A target may bring its own implementation of a nemesis name (the simulator does, so the
same ``--nemesis partition`` means simulated partitions there and iptables rules on real
nodes): ``target.nemesis(name)`` is asked first, this registry second.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NemesisKind:
    factory: str
    """``module:callable`` building the nemesis."""
    cycle: tuple[tuple[str, str], ...]
    """(start f, stop f) pairs the schedule alternates; every stop f heals at the end."""


NEMESES: dict[str, NemesisKind] = {
    "kill": NemesisKind("splitbrain.harness.nemesis.process:KillNemesis", (("kill", "start"),)),
    "pause": NemesisKind("splitbrain.harness.nemesis.process:PauseNemesis", (("pause", "resume"),)),
    "partition": NemesisKind(
        "splitbrain.harness.nemesis.partition:PartitionRandomHalves",
        (("start-partition", "stop-partition"),),
    ),
    "partition-halves": NemesisKind(
        "splitbrain.harness.nemesis.partition:PartitionHalves",
        (("start-partition", "stop-partition"),),
    ),
    "partition-one": NemesisKind(
        "splitbrain.harness.nemesis.partition:PartitionOne",
        (("start-partition", "stop-partition"),),
    ),
    "partition-majorities-ring": NemesisKind(
        "splitbrain.harness.nemesis.partition:PartitionMajoritiesRing",
        (("start-partition", "stop-partition"),),
    ),
    "partition-bridge": NemesisKind(
        "splitbrain.harness.nemesis.partition:PartitionBridge",
        (("start-partition", "stop-partition"),),
    ),
    "packet": NemesisKind(
        "splitbrain.harness.nemesis.packet:Packet", (("start-packet", "stop-packet"),)
    ),
    "packet-loss": NemesisKind(
        "splitbrain.harness.nemesis.packet:PacketLoss", (("start-packet", "stop-packet"),)
    ),
    "packet-delay": NemesisKind(
        "splitbrain.harness.nemesis.packet:PacketDelay", (("start-packet", "stop-packet"),)
    ),
    "packet-duplicate": NemesisKind(
        "splitbrain.harness.nemesis.packet:PacketDuplicate", (("start-packet", "stop-packet"),)
    ),
    "packet-reorder": NemesisKind(
        "splitbrain.harness.nemesis.packet:PacketReorder", (("start-packet", "stop-packet"),)
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


def build(name: str, target: Any) -> Any:
    """The target's own implementation of ``name`` if it has one, else the registry's."""
    own = getattr(target, "nemesis", None)
    if callable(own):
        made = own(name)
        if made is not None:
            return made
    module_name, _, attr = NEMESES[name].factory.partition(":")
    return getattr(importlib.import_module(module_name), attr)()
