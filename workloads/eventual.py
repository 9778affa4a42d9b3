"""Eventual consistency, the convergence half: after every fault heals and the system
settles, each node is read directly and all must hold the same state.

Clients write unique values over ``--keys`` keys (and read them). The final phase reads
every node on its own (``read-node``); the convergence checker reports which nodes
diverged and how. The set workload covers the other half: no acknowledged write lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from splitbrain.checkers import convergence
from splitbrain.harness.base.generator import Context, Invocation, Result, keyed
from splitbrain.harness.base.history import Op
from splitbrain.workloads import Workload, WorkloadSpec


@dataclass(frozen=True, slots=True)
class WriteMostly:
    """One key's writes of unique values, with some reads."""

    next_value: int = 1

    def op(self, ctx: Context) -> Result:
        if ctx.rng.random() < 0.2:
            return Invocation("read"), self
        return Invocation("write", self.next_value), WriteMostly(self.next_value + 1)


def workload(spec: WorkloadSpec) -> Workload:
    spec.refuse_model("eventual")

    def check(history: list[Op]) -> dict[str, Any]:
        return convergence.check(history, final_f="read-node", as_set=False, by_key=True)

    return Workload(
        name="eventual",
        generator=keyed(range(max(1, spec.keys)), lambda _key: WriteMostly()),
        final_generator=None,
        checkers={"convergence": check},
        operations=frozenset({"read", "write"}),
        read_every_node=True,
        data_type="register",
        decides={"convergence": ("eventual",)},
    )
