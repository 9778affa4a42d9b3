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
    """Adds of 1, 2, 3, ... mixed with whole-set reads.

    With ``full_reads_up_to`` N, reads thin out once more than N elements were added (with S
    added, a read is N/S times as likely), so an op reads about ``read_fraction * N``
    elements on average and the history grows with the ops, not with their square. Lost elements are still found by the final reads; a stale read needs a
    read during the run, so fewer of them are seen late in a long run."""

    read_fraction: float = 0.2
    next_element: int = 1
    full_reads_up_to: int | None = None

    def op(self, ctx: Context) -> Result:
        if ctx.rng.random() < self._read_chance():
            return Invocation("read"), self
        return Invocation("add", self.next_element), replace(
            self, next_element=self.next_element + 1
        )

    def _read_chance(self) -> float:
        added = self.next_element - 1
        if self.full_reads_up_to is None or added <= self.full_reads_up_to:
            return self.read_fraction
        return self.read_fraction * self.full_reads_up_to / added


FULL_READS_UP_TO = 200
"""Elements the set holds before reads thin out (``SetOps``): a 60 s sim run at full speed
wrote 1.5 GB of whole-set reads without it."""

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
        generator=SetOps(full_reads_up_to=FULL_READS_UP_TO),
        final_generator=Seq(tuple(Invocation("read") for _ in range(max(1, spec.concurrency)))),
        checkers={"set-full": check},
        operations=frozenset({"set.add", "set.read"}),
    )
