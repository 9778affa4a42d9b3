"""Synthetic list-append and rw-register histories for tests and benchmarks: strictly serializable by construction."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from splitbrain.harness.base.history import Op


@dataclass
class _KeyPool:
    """Elle's key rotation: a few active keys, each retired after ``max_writes`` appends."""

    active: list[int]
    max_writes: int
    writes: dict[int, int] = field(default_factory=dict)
    next_key: int = 0

    def pick(self, rng: random.Random) -> int:
        return rng.choice(self.active)

    def wrote(self, k: int) -> None:
        n = self.writes.get(k, 0) + 1
        self.writes[k] = n
        if n >= self.max_writes:
            self.active[self.active.index(k)] = self.next_key
            self.next_key += 1


def _append(state: dict[int, Any], f: str, k: int, v: Any) -> list[Any]:
    if f == "append":
        state.setdefault(k, []).append(v)
        return [f, k, v]
    return [f, k, list(state.get(k, []))]


def _register(state: dict[int, Any], f: str, k: int, v: Any) -> list[Any]:
    if f == "w":
        state[k] = v
        return [f, k, v]
    return [f, k, state.get(k)]


DATA_TYPES = {"list-append": ("append", _append), "rw-register": ("w", _register)}
"""Each data type's write micro-op and how a micro-op acts on the state (returning it done)."""


def serializable_history(
    n: int,
    seed: int = 0,
    concurrency: int = 10,
    key_count: int = 10,
    max_writes: int = 32,
    max_len: int = 4,
    data_type: str = "list-append",
) -> list[Op]:
    """``n`` transactions of ``data_type`` (``DATA_TYPES``) by ``concurrency`` processes, each
    applied atomically at its completion."""
    write, apply = DATA_TYPES[data_type]
    return _serial(n, seed, concurrency, key_count, max_writes, max_len, write, apply)


def _serial(
    n: int,
    seed: int,
    concurrency: int,
    key_count: int,
    max_writes: int,
    max_len: int,
    write: str,
    apply: Callable[[dict[int, Any], str, int, Any], list[Any]],
) -> list[Op]:
    rng = random.Random(seed)
    pool = _KeyPool(list(range(key_count)), max_writes, next_key=key_count)
    state: dict[int, Any] = {}
    next_value: dict[int, int] = {}
    pending: dict[int, list[list[Any]]] = {}
    ops: list[Op] = []
    started = 0
    t = 0
    while started < n or pending:
        p = rng.randrange(concurrency)
        t += rng.randrange(1000, 100000)
        if p in pending:
            done = [apply(state, f, k, v) for f, k, v in pending.pop(p)]
            ops.append(Op(type="ok", f="txn", process=p, value=done, time=t, index=len(ops)))
        elif started < n:
            txn = []
            for _ in range(rng.randint(1, max_len)):
                k = pool.pick(rng)
                if rng.random() < 0.5:
                    v = next_value.get(k, 0) + 1
                    next_value[k] = v
                    pool.wrote(k)
                    txn.append([write, k, v])
                else:
                    txn.append(["r", k, None])
            pending[p] = txn
            started += 1
            ops.append(
                Op(
                    type="invoke",
                    f="txn",
                    process=p,
                    value=[list(m) for m in txn],
                    time=t,
                    index=len(ops),
                )
            )
    return ops
