"""Reads, writes and compare-and-set over independent keys, judged as a linearizable register.

Written values are unique per key (one counter across all keys), so the linearizability
checker can take its fast path for unique values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from splitbrain.checkers import linearizable
from splitbrain.harness.base import plugins
from splitbrain.harness.base.generator import Context, Invocation, Result, Seq, keyed
from splitbrain.harness.base.history import Op
from splitbrain.harness.base.values import Integer, Option
from splitbrain.workloads import Workload, WorkloadSpec

REGISTER_MODELS = ("cas-register", "register")
REGISTER_FS = frozenset({"read", "write", "cas"})
"""Other client ops (a simulator's direct ``read-node``) are not part of the register."""


@dataclass(frozen=True, slots=True)
class RegisterOps:
    """One key's endless mix of reads, writes and CAS; written values are unique per key."""

    next_value: int = 1
    last_written: Any = None
    cas: bool = True
    """False for the plain ``register`` model, which has reads and writes only."""

    def op(self, ctx: Context) -> Result:
        roll = ctx.rng.random()
        if roll < 0.4:
            return Invocation("read"), self
        follow = RegisterOps(self.next_value + 1, self.next_value, self.cas)
        if roll < 0.7 or not self.cas:
            return Invocation("write", self.next_value), follow
        return Invocation("cas", [self.last_written, self.next_value]), follow


def final_reads(keys: int) -> Seq:
    return Seq(tuple(Invocation("read", None, k) for k in range(keys)))


OPTIONS = {
    "memory-limit-mb": Option(
        Integer(16, 1 << 20),
        linearizable.DEFAULT_MEMORY_MB,
        "checker: memory the linearizability search may use before the verdict is unknown",
    ),
}


def workload(spec: WorkloadSpec) -> Workload:
    model = spec.model or "cas-register"
    memory_mb = spec.options["memory-limit-mb"]
    if isinstance(model, str) and not plugins.is_path(model) and model not in REGISTER_MODELS:
        raise ValueError(
            f"unknown model {model!r} for workload register; known: {', '.join(REGISTER_MODELS)}"
        )

    def check(history: list[Op], progress: linearizable.Progress | None = None) -> dict[str, Any]:
        ops = [o for o in history if o.f in REGISTER_FS or not o.is_client]
        return linearizable.check(
            ops,
            model,
            init=None,
            timeout=spec.check_timeout,
            memory_limit_mb=memory_mb,
            progress=progress,
        )

    return Workload(
        name="register",
        generator=keyed(
            range(max(1, spec.keys)), lambda _key: RegisterOps(cas=model == "cas-register")
        ),
        final_generator=final_reads(max(1, spec.keys)),
        checkers={"linearizable": check},
        operations=frozenset({"read", "write", "cas"}),
        data_type=model if model in REGISTER_MODELS else None,
        decides={"linearizable": ("linearizable",)},
    )
