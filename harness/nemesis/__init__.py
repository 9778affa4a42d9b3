"""Fault injectors. Each is undoable; a kind pairs an implementation with its fault cycle.

Kinds are found through the plugin registry (group ``splitbrain.nemeses``; each module
here defines the kinds it implements). The same names mean the same faults everywhere: on
real nodes the kind's implementation runs (iptables rules, signals, tc netem); the
simulator's runtime performs the same cycles on its simulated network, in virtual time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from splitbrain.harness.base.history import NEMESIS, Op, call_safely
from splitbrain.harness.base.notation import value_text
from splitbrain.harness.base.protocols import Cycle

if TYPE_CHECKING:  # annotations only: the generators are not needed to check a history
    from splitbrain.harness.base.generator import Invocation

log = logging.getLogger("splitbrain")

NONE = "none"


@dataclass(frozen=True)
class NemesisKind:
    factory: Callable[[], Any]
    """Builds the nemesis for real nodes (no arguments)."""
    cycle: tuple[tuple[str, str], ...]
    """(start f, stop f) pairs the schedule alternates; every stop f heals at the end."""
    requires: tuple[type, ...] = ()
    """Capability protocols (``harness.protocols``) a target needs for it, checked before setup."""
    variant: str | None = None
    """The value of each start op: which grudge or packet fault; None lets the nemesis pick."""

    def build(self) -> Any:
        return self.factory()

    def cycles(self) -> list[Cycle]:
        return [(start, stop, self.variant) for start, stop in self.cycle]


def heals(cycles: list[Cycle]) -> list[str]:
    """The stop fs that undo every fault of ``cycles``, each once, in order."""
    return list(dict.fromkeys(stop for _, stop, _ in cycles))


def perform(nemesis: Any, inv: Invocation, record: Callable[[Op], Op]) -> Op:
    """One nemesis op: its invocation and its completion, both recorded."""
    invoke = record(Op(type="invoke", f=inv.f, process=NEMESIS, value=inv.value))
    done = record(call_safely(nemesis.invoke, invoke))
    log.info("fault %s: %s %s", done.f, done.type, value_text(done.value, 200))
    return done
