"""Jepsen's ``independent`` histories: each op's value is a ``[key value]`` tuple.

Jepsen's ``jepsen.independent`` lifts a single-key workload to many keys by wrapping every
value, so ``write 5`` on key 2 is ``:value [2 5]`` and a read invokes as ``[2 nil]``.
splitbrain keeps the key in its own field; these are rewritten to that form.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from splitbrain.harness.base.history import NEMESIS, Op, completion_positions

MODES = ("auto", "yes", "no")


def _pair(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], Hashable)


def looks_independent(ops: list[Op]) -> bool:
    """True only when no other reading is plausible: no op has a key, every client value is a
    ``[k v]`` pair, and some read is invoked with ``[k nil]`` (a plain read invokes with nil)."""
    if any(op.key is not None for op in ops if op.is_client):
        return False
    client = [op for op in ops if op.is_client]
    if not client:
        return False
    if not all(_pair(op.value) for op in client if op.value is not None):
        return False
    return any(
        op.type == "invoke" and op.f == "read" and _pair(op.value) and op.value[1] is None
        for op in client
    )


def split_keys(ops: list[Op]) -> list[Op]:
    """Each client op's ``[k v]`` value as ``key=k, value=v``; an invocation without a pair
    (a read invoked with nil) takes its completion's key. Other ops are unchanged."""
    out = [
        Op(
            o.type,
            o.f,
            o.process,
            o.value[1],
            o.value[0],
            o.time,
            o.index,
            o.node,
            o.error,
            dict(o.extra),
        )
        if o.process != NEMESIS and _pair(o.value)
        else o
        for o in ops
    ]
    for i, c in enumerate(completion_positions(out)):
        if c >= 0 and out[i].key is None and out[c].key is not None:
            out[i] = out[i].replace(key=out[c].key)
    return out


def apply(ops: list[Op], mode: str) -> tuple[list[Op], bool]:
    """``mode`` auto (detect), yes or no; the ops, and whether they were rewritten."""
    if mode == "yes" or (mode == "auto" and looks_independent(ops)):
        return split_keys(ops), True
    return ops, False
