"""How a nemesis reaches a target's nodes, whatever the target."""

from __future__ import annotations

from typing import Any

from harness.control.netns import run_tag
from harness.control.node import Node
from harness.nemesis.errors import NemesisUnsupported


def target_nodes(target: Any, nemesis: str) -> list[Node]:
    """The target's nodes as ``Node`` objects; refuses targets that have no real nodes."""
    lookup = getattr(target, "node", None)
    if not callable(lookup):
        raise NemesisUnsupported(
            f"nemesis {nemesis}: target {getattr(target, 'name', target)!r} has no network nodes to inject it on"
        )
    return [lookup(name) for name in target.nodes()]


def chain_name(prefix: str, run_id: str) -> str:
    """An iptables chain of the run's own (at most 28 characters)."""
    return f"{prefix}-{run_tag(run_id)}"
