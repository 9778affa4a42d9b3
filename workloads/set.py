"""Clients add unique elements to one set and read it whole; judged like Jepsen's set-full.

Workload option ``-w linearizable=true`` makes stale reads fail the test.
The final phase reads the set once per worker after the system has settled.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from splitbrain.checkers import set_full
from splitbrain.harness.base.generator import Context, Invocation, Result, Seq
from splitbrain.harness.base.history import Op
from splitbrain.harness.base.values import Flag, Option
from splitbrain.workloads import Workload, WorkloadSpec


@dataclass(frozen=True, slots=True)
class SetOps:
    """Adds of 1, 2, 3, ... mixed with whole-set reads."""

    read_fraction: float = 0.2
    next_element: int = 1

    def op(self, ctx: Context) -> Result:
        if ctx.rng.random() < self.read_fraction:
            return Invocation("read"), self
        return Invocation("add", self.next_element), replace(
            self, next_element=self.next_element + 1
        )


OPTIONS = {
    "linearizable": Option(
        Flag(),
        False,
        "checker: a stale read (missing a known element that later reads show) fails the test",
    ),
}


def workload(spec: WorkloadSpec) -> Workload:
    spec.refuse_model("set")
    linearizable = spec.options["linearizable"]

    def check(history: list[Op]) -> dict[str, Any]:
        return set_full.check(history, linearizable=linearizable)

    return Workload(
        name="set",
        generator=SetOps(),
        final_generator=Seq(tuple(Invocation("read") for _ in range(max(1, spec.concurrency)))),
        checkers={"set-full": check},
        operations=frozenset({"set.add", "set.read"}),
    )
