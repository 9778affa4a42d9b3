"""Maelstrom's workloads, by Maelstrom's names, on splitbrain's generators and checkers.

The operations are protocol-free (``add``, ``read``, ``generate``, ...); the maelstrom
target's client turns them into Maelstrom request bodies. Options (``-o``, strings):
``availability`` (``total`` or a fraction), ``recovery-time`` (seconds between the heal and
the final reads; Maelstrom waits 10), ``max-txn-length``, ``max-writes-per-key``,
``consistency-models`` (comma-separated Elle model names), ``stable-latency`` (limits on
broadcast and g-set's stable latencies: ``median:400,max:600`` in ms, as Gossip Glomers
sets them).

Eventually consistent workloads (g-counter, pn-counter) are judged on their final reads
only, as Maelstrom judges them: those ops are ``final-read``, which the client sends as
``read``. Broadcast and g-set are judged by set-full on every read, which counts stale
reads without failing the test, and fails it for a lost or unexpected element.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from splitbrain.checkers import availability, counter, echo, elle, kafka, set_full, unique_ids
from splitbrain.checkers.txn import rw_register
from splitbrain.checkers.txn.models import validate_models
from splitbrain.harness.base import generator as gen
from splitbrain.harness.base.generator import Context, Generator, Invocation, Result
from splitbrain.harness.base.history import Op
from splitbrain.harness.base.values import (
    Fraction,
    Integer,
    Limits,
    NameList,
    Number,
    Option,
    Optional,
    Problem,
)
from splitbrain.workloads import (
    CheckerFn,
    Workload,
    WorkloadSpec,
    declared_options,
    with_options,
)
from splitbrain.workloads import register as register_workload
from splitbrain.workloads.counter import CounterOps
from splitbrain.workloads.list_append import ListAppendOps
from splitbrain.workloads.set import SetOps

DEFAULT_RECOVERY_S = 10.0

LATENCY_QUANTILES = ("median", "p99", "max")


@dataclass(frozen=True)
class ModelNames:
    """Elle consistency model names, comma-separated or a list; unknown ones refused."""

    names: NameList = NameList(empty="none")
    describe: str = "Elle consistency model names, comma-separated or a list"

    def from_text(self, text: str) -> list[str]:
        return self.from_value(text)

    def from_value(self, value: Any) -> list[str]:
        models = self.names.from_value(value)
        try:
            return validate_models(models)
        except ValueError as e:
            raise Problem(str(e)) from None

    def to_text(self, value: list[str]) -> str:
        return self.names.to_text(value)


OPTIONS = {
    "availability": Option(
        Optional(Fraction()), None, "checker: 'total' or the fraction of ops that must succeed"
    ),
    "recovery-time": Option(
        Number(0, 3600, unit="seconds"),
        DEFAULT_RECOVERY_S,
        "generator: seconds after healing before the final reads",
    ),
    "max-txn-length": Option(
        Integer(1, 64), 4, "generator: micro-ops per txn-list-append transaction"
    ),
    "max-writes-per-key": Option(
        Integer(1, 10_000), 16, "generator: appends to one key before it is retired"
    ),
    "consistency-models": Option(
        ModelNames(),
        ["strict-serializable"],
        "checker: models txn-list-append and txn-rw-register claim",
    ),
    "stable-latency": Option(
        Limits(LATENCY_QUANTILES, unit="ms"),
        {},
        "checker (broadcast, g-set): limits such as median:400,max:600 (ms)",
    ),
}
"""``-w`` options of every Maelstrom workload."""
FINAL_READ = "final-read"
RW_TXN = "rw.txn"
"""rw-register's transactions (``workloads.rw_register``): invoked as ``txn``."""


def _with_availability(spec: WorkloadSpec, checkers: dict[str, CheckerFn]) -> dict[str, CheckerFn]:
    required = spec.options["availability"]

    def check(history: list[Op]) -> dict[str, Any]:
        return availability.check(history, required)

    return checkers | {"availability": check}


def _final(spec: WorkloadSpec, reads: Generator) -> Generator:
    return gen.phases(gen.sleep(spec.options["recovery-time"]), reads)


def _workload(
    name: str,
    spec: WorkloadSpec,
    generator: Generator,
    final: Generator | None,
    checkers: dict[str, CheckerFn],
    operations: set[str],
) -> Workload:
    spec.refuse_model(name)
    return Workload(
        name=name,
        generator=generator,
        final_generator=final,
        checkers=_with_availability(spec, checkers),
        operations=frozenset(operations),
    )


def _echo_op(ctx: Context) -> Invocation:
    return Invocation("echo", f"Please echo {ctx.rng.randrange(128)}")


def echo_workload(spec: WorkloadSpec) -> Workload:
    return _workload("echo", spec, gen.Repeat(_echo_op), None, {"echo": echo.check}, {"echo"})


def unique_ids_workload(spec: WorkloadSpec) -> Workload:
    ops = gen.Repeat(lambda ctx: Invocation("generate"))
    checkers = {"unique-ids": unique_ids.check}
    return _workload("unique-ids", spec, ops, None, checkers, {"generate"})


def within_latency(result: dict[str, Any], limits: dict[str, float]) -> dict[str, Any]:
    """set-full's result, invalid as well when a stable-latency quantile exceeds its limit."""
    if not limits:
        return result
    measured = result.get("stable_latency_ms") or {}
    over = {
        q: {"ms": measured.get(q), "limit": limit}
        for q, limit in limits.items()
        if measured.get(q) is not None and measured[q] >= limit
    }
    valid = result.get("valid")
    if over and valid is True:
        valid = False
    return result | {"valid": valid, "stable_latency_limits": limits, "stable_latency_over": over}


def _set_workload(name: str, spec: WorkloadSpec, data_type: str) -> Workload:
    final = _final(spec, gen.each_worker(gen.once("read")))
    operations = {f"{data_type}.add", f"{data_type}.read"}
    limits = spec.options["stable-latency"]

    def check(history: list[Op]) -> dict[str, Any]:
        return within_latency(set_full.check(history), limits)

    return _workload(name, spec, SetOps(), final, {"set-full": check}, operations)


def broadcast_workload(spec: WorkloadSpec) -> Workload:
    return _set_workload("broadcast", spec, "broadcast")


def g_set_workload(spec: WorkloadSpec) -> Workload:
    return _set_workload("g-set", spec, "set")


def final_reads_only(history: list[Op]) -> list[Op]:
    """Adds, and the final reads as plain ``read``s; the main phase's reads left out."""
    out = []
    for op in history:
        if op.f == "read":
            continue
        out.append(op.replace(f="read") if op.f == FINAL_READ else op)
    return out


def _check_counter(history: list[Op]) -> dict[str, Any]:
    return counter.check(final_reads_only(history))


def _counter_workload(name: str, spec: WorkloadSpec, pn: bool) -> Workload:
    final = _final(spec, gen.each_worker(gen.once(FINAL_READ)))
    operations = {"counter.add", "counter.read", f"counter.{FINAL_READ}"}
    checkers = {"counter": _check_counter}
    return _workload(name, spec, CounterOps(pn=pn), final, checkers, operations)


def g_counter_workload(spec: WorkloadSpec) -> Workload:
    return _counter_workload("g-counter", spec, pn=False)


def pn_counter_workload(spec: WorkloadSpec) -> Workload:
    return _counter_workload("pn-counter", spec, pn=True)


def lin_kv_workload(spec: WorkloadSpec) -> Workload:
    register_spec = with_options(
        replace(spec, model=None, options={}), declared_options(register_workload), "register"
    )
    base = register_workload.workload(register_spec)
    checkers = dict(base.checkers)
    return _workload(
        "lin-kv", spec, base.generator, base.final_generator, checkers, {"read", "write", "cas"}
    )


def _txn_ops(spec: WorkloadSpec, write: str) -> ListAppendOps:
    """Transactions of reads and ``write``s (values unique per key) over ``keys`` keys, each
    retired after ``max-writes-per-key`` writes."""
    keys = max(1, spec.keys)
    return ListAppendOps(
        tuple(range(keys)),
        max_writes=spec.options["max-writes-per-key"],
        max_len=spec.options["max-txn-length"],
        next_key=keys,
        write=write,
    )


def txn_list_append_workload(spec: WorkloadSpec) -> Workload:
    models = spec.options["consistency-models"]

    def check(history: list[Op]) -> dict[str, Any]:
        return elle.check(history, consistency_models=models)

    ops = _txn_ops(spec, "append")
    return _workload("txn-list-append", spec, ops, None, {"elle": check}, {"txn"})


def txn_rw_register_workload(spec: WorkloadSpec) -> Workload:
    """Maelstrom's txn-rw-register: transactions of ``["r", k, null]`` and ``["w", k, v]``
    (values unique per key), judged by Elle's rw-register checker for the models claimed."""
    models = spec.options["consistency-models"]

    def check(history: list[Op]) -> dict[str, Any]:
        return rw_register.check(history, consistency_models=models)

    ops = _txn_ops(spec, "w")
    return _workload("txn-rw-register", spec, ops, None, {"elle-rw-register": check}, {RW_TXN})


@dataclass(frozen=True, slots=True)
class KafkaOps:
    """Sends of unique messages to random keys, polls, and now and then a fresh assignment."""

    keys: tuple[str, ...]
    next_msg: int = 1

    def op(self, ctx: Context) -> Result:
        roll = ctx.rng.random()
        if roll < 0.5:
            send = Invocation("send", [ctx.rng.choice(self.keys), self.next_msg])
            return send, replace(self, next_msg=self.next_msg + 1)
        if roll < 0.9:
            return Invocation("poll"), self
        chosen = sorted(ctx.rng.sample(self.keys, ctx.rng.randint(1, len(self.keys))))
        return Invocation("assign", chosen), self


def kafka_workload(spec: WorkloadSpec) -> Workload:
    keys = tuple(str(k) for k in range(max(1, spec.keys)))
    assign_all = gen.once("assign", list(keys))
    main = gen.phases(gen.each_worker(assign_all), KafkaOps(keys))
    drain = gen.seq([Invocation("assign", list(keys))] + [Invocation("poll")] * 5)
    final = _final(spec, gen.each_worker(drain))
    operations = {"send", "poll", "assign"}
    return _workload("kafka", spec, main, final, {"kafka": kafka.check}, operations)
