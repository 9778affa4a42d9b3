"""Pure functions over a sim history: acknowledged writes that were lost, and convergence.

They complement the linearizability checker with the two claims it does not name: a
``lost`` write is one the final state contradicts, and a converged cluster is one whose
nodes (read directly with ``read-node`` in the final phase) hold the same values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from splitbrain.harness.base.history import Op, pairs

WRITES = ("write", "cas")


def _written(op: Op) -> Any:
    return op.value[1] if op.f == "cas" else op.value


@dataclass
class LostWrites:
    """Per key, acknowledged writes invoked after the final value's write had completed."""

    lost: dict[Any, list[Any]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.lost.values())


def lost_writes(history: list[Op]) -> LostWrites:
    """With unique values, the final read's value v must come from the last write in any
    linearization; an ``ok`` write invoked after v's write completed (and completed before
    the final read began) should have replaced v, so it was lost."""
    ps = list(pairs(history))
    final: dict[Any, tuple[Any, int]] = {}
    for p in ps:
        if p.invoke.f == "read" and p.outcome == "ok" and p.complete is not None:
            final[p.invoke.key] = (p.complete.value, p.invoke_pos)
    out = LostWrites()
    for key, (value, read_pos) in sorted(final.items(), key=lambda kv: repr(kv[0])):
        writes = [p for p in ps if p.invoke.key == key and p.invoke.f in WRITES]
        if value is None:
            done_at = -1
        else:
            writer = [p for p in writes if _written(p.invoke) == value and p.outcome == "ok"]
            if not writer or writer[0].complete_pos is None:
                continue
            done_at = writer[0].complete_pos
        lost = [
            _written(p.invoke)
            for p in writes
            if p.outcome == "ok"
            and p.invoke_pos > done_at
            and p.complete_pos is not None
            and p.complete_pos < read_pos
        ]
        if lost:
            out.lost[key] = lost
    return out


def node_states(history: list[Op]) -> dict[str, dict[Any, Any]]:
    """The state each node reported to ``read-node`` (only ``ok`` answers)."""
    states: dict[str, dict[Any, Any]] = {}
    for p in pairs(history):
        if p.invoke.f == "read-node" and p.outcome == "ok" and p.complete is not None:
            states[str(p.invoke.value)] = {
                _hashable(k): _hashable(v) for k, v in p.complete.value or []
            }
    return states


def divergent_keys(states: dict[str, dict[Any, Any]]) -> list[Any]:
    """Keys on which two nodes that hold them report different values."""
    seen: dict[Any, set[Any]] = {}
    for state in states.values():
        for k, v in state.items():
            seen.setdefault(k, set()).add(v)
    return sorted((k for k, vs in seen.items() if len(vs) > 1), key=repr)


def _hashable(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v
