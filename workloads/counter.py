"""Increments (and, with ``-w pn=true``, decrements) of one counter, and reads of it.

Every read must lie between the acknowledged sum before it and the attempted sum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from splitbrain.checkers import counter
from splitbrain.harness.base.generator import Context, Invocation, Result, Seq
from splitbrain.harness.base.history import Op
from splitbrain.harness.base.values import Flag, Number, Option
from splitbrain.workloads import Workload, WorkloadSpec


@dataclass(frozen=True, slots=True)
class CounterOps:
    pn: bool = False
    read_fraction: float = 0.3

    def op(self, ctx: Context) -> Result:
        if ctx.rng.random() < self.read_fraction:
            return Invocation("read"), self
        delta = ctx.rng.choice((-1, 1, 2)) if self.pn else 1
        return Invocation("add", delta), self


OPTIONS = {
    "pn": Option(Flag(), False, "generator: decrements too (a PN-counter), not only increments"),
    "read-fraction": Option(Number(0, 1), 0.3, "generator: share of ops that are reads"),
}


def workload(spec: WorkloadSpec) -> Workload:
    spec.refuse_model("counter")
    pn = spec.options["pn"]

    def check(history: list[Op]) -> dict[str, Any]:
        return counter.check(history)

    return Workload(
        name="counter",
        generator=CounterOps(pn=pn, read_fraction=spec.options["read-fraction"]),
        final_generator=Seq((Invocation("read"),)),
        checkers={"counter": check},
        operations=frozenset({"counter.add", "counter.read"}),
    )
