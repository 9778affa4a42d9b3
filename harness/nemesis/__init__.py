"""Fault injectors. Each is undoable; a kind pairs an implementation with its fault cycle.

Kinds are found through the plugin registry (group ``splitbrain.nemeses``; each module
here defines the kinds it implements). A target may bring its own implementation of a
nemesis name (the simulator does, so the same ``--nemesis partition`` means simulated
partitions there and iptables rules on real nodes): a target that ``OwnsNemeses`` is
asked first, the registry second.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

NONE = "none"


@dataclass(frozen=True)
class NemesisKind:
    factory: Callable[[], Any]
    """Builds the nemesis (no arguments)."""
    cycle: tuple[tuple[str, str], ...]
    """(start f, stop f) pairs the schedule alternates; every stop f heals at the end."""
    requires: tuple[type, ...] = ()
    """Capability protocols (``harness.protocols``) a target needs for it, checked before setup."""

    def build(self) -> Any:
        return self.factory()
