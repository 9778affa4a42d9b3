"""The asynchronous message-queue pattern: producers enqueue unique messages, consumers dequeue.

The final phase drains what is left. Judged like Jepsen's total-queue; ``-w fifo=true``
also checks order, for targets that claim FIFO.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from splitbrain.checkers import total_queue
from splitbrain.harness.base.generator import Context, Invocation, Result, Seq
from splitbrain.harness.base.history import Op
from splitbrain.harness.base.values import Flag, Option
from splitbrain.workloads import Workload, WorkloadSpec


@dataclass(frozen=True, slots=True)
class QueueOps:
    """Enqueues of 1, 2, 3, ... mixed with dequeues."""

    dequeue_fraction: float = 0.5
    next_message: int = 1

    def op(self, ctx: Context) -> Result:
        if ctx.rng.random() < self.dequeue_fraction:
            return Invocation("dequeue"), self
        return Invocation("enqueue", self.next_message), replace(
            self, next_message=self.next_message + 1
        )


OPTIONS = {
    "fifo": Option(Flag(), False, "checker: messages must be dequeued in the order enqueued"),
    "allow-duplicates": Option(
        Flag(), False, "checker: a message dequeued twice is not a failure (at-least-once)"
    ),
}


def workload(spec: WorkloadSpec) -> Workload:
    spec.refuse_model("queue")
    fifo, duplicates = spec.options["fifo"], spec.options["allow-duplicates"]

    def check(history: list[Op]) -> dict[str, Any]:
        return total_queue.check(history, fifo=fifo, allow_duplicates=duplicates)

    return Workload(
        name="queue",
        generator=QueueOps(),
        final_generator=Seq((Invocation("drain"),)),
        checkers={"total-queue": check},
        operations=frozenset({"enqueue", "dequeue", "drain"}),
    )
