"""How a nemesis reaches a target's nodes, whatever the target."""

from __future__ import annotations

from splitbrain.harness.base.protocols import HasNetworkNodes, Target
from splitbrain.harness.control.netns import run_tag
from splitbrain.harness.control.node import Node, undo_later, undone
from splitbrain.harness.nemesis.errors import NemesisUnsupported

NETWORK: tuple[type, ...] = (HasNetworkNodes,)
"""What network and clock nemeses need of a target (``NemesisKind.requires``)."""


def target_nodes(target: Target, nemesis: str) -> list[Node]:
    """The target's nodes as ``Node`` objects; refuses targets that have no real nodes."""
    if not isinstance(target, HasNetworkNodes):
        raise NemesisUnsupported(
            f"nemesis {nemesis}: target {target.name!r} has no network nodes to inject it on"
        )
    return [target.node(name) for name in target.nodes()]


def chain_name(prefix: str, run_id: str) -> str:
    """An iptables chain of the run's own (at most 28 characters)."""
    return f"{prefix}-{run_tag(run_id)}"


def _chain_removal(chain: str) -> list[list[str]]:
    return [
        ["iptables", "-w", "-D", "INPUT", "-j", chain],
        ["iptables", "-w", "-F", chain],
        ["iptables", "-w", "-X", chain],
    ]


def iptables(node: Node, *args: str) -> None:
    node.run(["iptables", "-w", *args], timeout=20).check()


def add_chain(node: Node, chain: str) -> int | None:
    """Create ``chain`` and hook it first into INPUT; returns the journaled undo step."""
    step = undo_later(node, f"iptables chain {chain}", *_chain_removal(chain))
    iptables(node, "-N", chain)
    iptables(node, "-I", "INPUT", "1", "-j", chain)
    return step


def remove_chain(node: Node, chain: str, step: int | None) -> None:
    """Unhook and delete ``chain``; tolerates a node or chain already gone."""
    for argv in _chain_removal(chain):
        node.run(argv, timeout=20)
    undone(node, step)
