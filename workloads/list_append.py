"""Elle's list-append: transactions of appends and reads over a rotating pool of keys.

Values appended are unique per key (one counter per key); each key is retired after
``max-writes`` appends and replaced by a fresh one, as Elle's generator does, so reads stay short.
The claimed models (``--consistency``, Elle's names) default to strict-serializable.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from splitbrain.checkers import elle
from splitbrain.checkers.txn.models import DEFAULT_MODELS, validate_models
from splitbrain.harness.base.generator import Context, Invocation, Result
from splitbrain.harness.base.history import Op
from splitbrain.harness.base.values import Integer, Option
from splitbrain.workloads import Workload, WorkloadSpec


@dataclass(frozen=True, slots=True)
class ListAppendOps:
    """An endless stream of 1..max_len micro-op transactions over ``active`` keys: reads, and
    writes of a counter unique per key (``write``: ``append`` here, ``w`` for rw-register)."""

    active: tuple[int, ...]
    max_writes: int = 32
    max_len: int = 4
    next_key: int = 0
    writes: tuple[tuple[int, int], ...] = ()
    write: str = "append"

    def op(self, ctx: Context) -> Result:
        active = list(self.active)
        writes = dict(self.writes)
        next_key = self.next_key
        mops: list[list[Any]] = []
        for _ in range(ctx.rng.randint(1, self.max_len)):
            k = ctx.rng.choice(active)
            if ctx.rng.random() < 0.5:
                mops.append(["r", k, None])
                continue
            n = writes.get(k, 0) + 1
            writes[k] = n
            mops.append([self.write, k, n])
            if n >= self.max_writes:
                active[active.index(k)] = next_key
                next_key += 1
                writes.pop(k)
        follow = replace(
            self, active=tuple(active), next_key=next_key, writes=tuple(sorted(writes.items()))
        )
        return Invocation("txn", mops), follow


OPTIONS = {
    "max-writes": Option(Integer(1, 10_000), 32, "generator: appends to a key before it retires"),
    "max-len": Option(Integer(1, 64), 4, "generator: micro-ops per transaction, at most"),
    "cycle-search-budget": Option(
        Integer(1_000, 10**9),
        elle.DEFAULT_BUDGET,
        "checker: edge relaxations per cycle search before the verdict is unknown",
    ),
}


def workload(spec: WorkloadSpec) -> Workload:
    keys = max(1, spec.keys)
    models = list(spec.consistency) or ([spec.model] if spec.model else list(DEFAULT_MODELS))
    validate_models(models)
    budget = spec.options["cycle-search-budget"]

    def check(history: list[Op]) -> dict[str, Any]:
        return elle.check(history, consistency_models=models, cycle_search_budget=budget)

    return Workload(
        name="list-append",
        generator=ListAppendOps(
            tuple(range(keys)),
            max_writes=spec.options["max-writes"],
            max_len=spec.options["max-len"],
            next_key=keys,
        ),
        final_generator=None,
        checkers={"elle": check},
        operations=frozenset({"txn"}),
        data_type="list-append",
        decides={"elle": tuple(models)},
    )
