"""Reads, writes and compare-and-set over independent keys, judged as a linearizable register.

Written values are unique per key (one counter across all keys), so the linearizability
checker can take its fast path for unique values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from checkers import linearizable
from harness.generator import Context, Invocation, Result, Seq
from harness.history import Op
from workloads import Workload, WorkloadSpec

TAKES_MODEL = True
REGISTER_MODELS = ("cas-register", "register")


@dataclass(frozen=True, slots=True)
class RegisterOps:
    """An endless mix of reads, writes and CAS; remembers the last value it wrote per key."""

    keys: int
    next_value: int = 1
    last_written: tuple[Any, ...] = ()

    def op(self, ctx: Context) -> Result:
        key = ctx.rng.randrange(self.keys)
        roll = ctx.rng.random()
        if roll < 0.4:
            return Invocation("read", None, key), self
        last = self.last_written or (None,) * self.keys
        value = self.next_value
        written = last[:key] + (value,) + last[key + 1 :]
        follow = replace(self, next_value=value + 1, last_written=written)
        if roll < 0.7:
            return Invocation("write", value, key), follow
        return Invocation("cas", [last[key], value], key), follow


def final_reads(keys: int) -> Seq:
    return Seq(tuple(Invocation("read", None, k) for k in range(keys)))


def workload(spec: WorkloadSpec) -> Workload:
    model = spec.model or "cas-register"
    if model not in REGISTER_MODELS:
        raise ValueError(
            f"unknown model {model!r} for workload register; known: {', '.join(REGISTER_MODELS)}"
        )

    def check(history: list[Op]) -> dict[str, Any]:
        return linearizable.check(history, model, init=None, timeout=spec.check_timeout)

    return Workload(
        name="register",
        generator=RegisterOps(max(1, spec.keys)),
        final_generator=final_reads(max(1, spec.keys)),
        checkers={"linearizable": check},
    )
