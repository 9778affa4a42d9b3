"""Runs a whole test in virtual time: simulated clients interpret the workload's pure
generators, a simulated nemesis follows the fault schedule, and every op is written to the
history with virtual nanoseconds. The semantics follow the threaded interpreter in
``harness.core``: one process per worker, ``info`` retires a process (the worker goes on
as process + concurrency), an op with no answer after the op timeout is ``info``.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from typing import Any

from splitbrain.harness import generator as gen
from splitbrain.harness.core import TestSpec
from splitbrain.harness.generator import Context, Generator, Invocation, Pending
from splitbrain.harness.history import NEMESIS, HistoryWriter, Op
from splitbrain.harness.protocols import HarnessInputError
from splitbrain.targets.sim.cluster import Cluster, Config, Sim, parse_config
from splitbrain.targets.sim.nemesis import CYCLES, VARIANTS, SimNemesis
from splitbrain.targets.sim.nodes import Request

NANOS = 1_000_000_000
POLL = 50_000_000
WARM_UP = NANOS
"""Virtual time the cluster gets to form (elect a leader) before the history begins."""
KINDS = {"set": "set", "counter": "counter", "queue": "queue", "list-append": "list"}


@dataclass(slots=True)
class Worker:
    index: int
    process: int
    busy: bool = False
    invoke: Op | None = None
    node: str | None = None


class Clients:
    """Simulated client processes sharing one generator per phase."""

    def __init__(
        self,
        cluster: Cluster,
        writer: HistoryWriter,
        concurrency: int,
        op_timeout: float,
        rng: random.Random,
    ) -> None:
        self.cluster = cluster
        self.sim: Sim = cluster.sim
        self.writer = writer
        self.t0 = self.sim.now
        self.clock = lambda: self.sim.now - self.t0
        self.concurrency = concurrency
        self.timeout = int(op_timeout * NANOS)
        self.rng = rng
        self.workers = [Worker(i, i) for i in range(concurrency)]
        self.gen: Generator | None = None
        self.in_flight = 0
        self.outstanding: dict[int, Worker] = {}
        self.deadlines: deque[tuple[int, int]] = deque()
        """(deadline, request id) in invocation order; deadlines only grow (one timeout)."""
        self.timer_at: int | None = None
        self.next_rid = 0
        self.poll_at: int | None = None
        self.on_idle: Any = None

    @property
    def finished(self) -> bool:
        return self.gen is None and self.in_flight == 0

    def start(self, generator: Generator | None) -> None:
        self.gen = generator
        self._poll()

    def _schedule_poll(self, t: int) -> None:
        if self.poll_at is not None and self.sim.now < self.poll_at <= t:
            return
        self.poll_at = t
        self.sim.at(t, self._timed_poll, t)

    def _timed_poll(self, t: int) -> None:
        if self.poll_at == t:
            self.poll_at = None
            self._poll()

    def _poll(self) -> None:
        now = self.sim.now - self.t0
        wake: int | None = None
        for w in self.workers:
            if self.gen is None:
                break
            if w.busy:
                continue
            ctx = Context(now, w.index, self.concurrency, self.in_flight, self.rng)
            inv, self.gen = self.gen.op(ctx)
            if inv is None:
                self.gen = None
                break
            if isinstance(inv, Pending):
                if inv.until is not None:
                    until = inv.until
                elif self.in_flight == 0:
                    until = now + POLL
                else:
                    continue
                wake = until if wake is None else min(wake, until)
                continue
            self.in_flight += 1
            w.busy = True
            if inv.time is not None and inv.time > now:
                self.sim.at(inv.time + self.t0, self._invoke, w, inv)
            else:
                self._invoke(w, inv)
        if self.gen is not None and wake is not None:
            self._schedule_poll(max(wake, now + 1) + self.t0)
        if self.finished and self.on_idle is not None:
            self.on_idle()

    def _home(self, worker: int) -> str:
        """The node a worker's client talks to: fixed per worker slot, as on real targets, so
        the process that replaces a crashed one keeps talking to the same node."""
        names = self.cluster.names
        return names[worker % len(names)]

    def _invoke(self, w: Worker, inv: Invocation) -> None:
        op = Op(type="invoke", f=inv.f, process=w.process, value=inv.value, key=inv.key)
        self.writer.append(op, self.clock)
        self.next_rid += 1
        rid = self.next_rid
        w.invoke = op
        self.outstanding[rid] = w
        w.node = node = inv.value if inv.f == "read-node" else self._home(w.index)
        self._arm(self.sim.now + self.timeout, rid)
        req = Request(rid, inv.f, inv.key, inv.value, self)
        if node not in self.cluster.nodes:
            self.sim.at(self.sim.now, self.complete, rid, "fail", None, f"no node {node!r}", None)
            return
        self.cluster.net.to_node(node, req)

    def _arm(self, deadline: int, rid: int) -> None:
        """Queue a request's timeout; one timer event waits for the earliest one still open."""
        self.deadlines.append((deadline, rid))
        if self.timer_at is None:
            self.timer_at = deadline
            self.sim.at(deadline, self._expire)

    def _expire(self) -> None:
        now = self.sim.now
        self.timer_at = now
        deadlines = self.deadlines
        while deadlines:
            deadline, rid = deadlines[0]
            if rid not in self.outstanding:
                deadlines.popleft()
            elif deadline <= now:
                deadlines.popleft()
                w = self.outstanding[rid]
                if w.invoke is not None:
                    self.complete(rid, "info", w.invoke.value, "timeout", None)
            else:
                self.timer_at = deadline
                self.sim.at(deadline, self._expire)
                return
        self.timer_at = None

    def complete(self, rid: int, typ: str, value: Any, error: Any, node: str | None) -> None:
        w = self.outstanding.pop(rid, None)
        if w is None or w.invoke is None:
            return
        inv = w.invoke
        done = inv.completion(typ, value, node=w.node, error=error)
        self.writer.append(done, self.clock)
        w.busy = False
        w.invoke = None
        self.in_flight -= 1
        if typ == "info":
            w.process += self.concurrency
        self._poll()


class Nemeses:
    """Follows a fault schedule (a pure generator) and records each fault as nemesis ops."""

    def __init__(
        self, nemesis: SimNemesis, writer: HistoryWriter, sim: Sim, rng: random.Random
    ) -> None:
        self.nemesis = nemesis
        self.writer = writer
        self.sim = sim
        self.t0 = sim.now
        self.clock = lambda: sim.now - self.t0
        self.rng = rng
        self.gen: Generator | None = None
        self.on_idle: Any = None

    @property
    def finished(self) -> bool:
        return self.gen is None

    def perform(self, f: str, variant: Any = None) -> None:
        self.writer.append(Op(type="invoke", f=f, process=NEMESIS, value=variant), self.clock)
        value = self.nemesis.invoke(f, variant)
        self.writer.append(Op(type="info", f=f, process=NEMESIS, value=value), self.clock)

    def start(self, generator: Generator | None) -> None:
        self.gen = generator
        self._poll()

    def _perform_later(self, f: str, variant: Any) -> None:
        self.perform(f, variant)
        self._poll()

    def _poll(self) -> None:
        while self.gen is not None:
            now = self.sim.now - self.t0
            inv, self.gen = self.gen.op(Context(now, 0, 1, 0, self.rng))
            if inv is None:
                self.gen = None
                break
            if isinstance(inv, Pending):
                until = inv.until if inv.until is not None else now + POLL
                self.sim.at(max(until, now + 1) + self.t0, self._poll)
                return
            if inv.time is not None and inv.time > now:
                self.sim.at(inv.time + self.t0, self._perform_later, inv.f, inv.value)
                return
            self.perform(inv.f, inv.value)
        if self.on_idle is not None:
            self.on_idle()


Cycle = tuple[str, str, Any]
"""(start f, stop f, the start op's value: a forced variant such as a grudge kind, or None)."""


def cycles_for(faults: list[str], config: Config) -> list[Cycle]:
    """The sim's fault cycles for ``--nemesis`` names (``partition-halves`` fixes the grudge)."""
    out: list[Cycle] = []
    for name in faults:
        base, _, variant = name.partition("-")
        if base not in CYCLES or (variant and variant not in VARIANTS.get(base, ())):
            known = sorted([*CYCLES, *(f"{b}-{v}" for b, vs in VARIANTS.items() for v in vs)])
            raise HarnessInputError(
                f"--nemesis {name}: not simulated by target sim; it knows {', '.join(known)}"
            )
        cycles = CYCLES[base]
        if base == "clock" and config.clock != "random":
            cycles = tuple(c for c in cycles if c[0] == f"{config.clock}-clock")
        out.extend((start, stop, variant or None) for start, stop in cycles)
    return out


def schedule(cycles: list[Cycle], interval: float, time_limit: float) -> Generator:
    """``harness.core.fault_schedule``, with each start op carrying its variant as value."""
    rounds = max(1, int(time_limit / (2 * interval)) + 1)
    steps: list[Generator] = []
    for r in range(rounds):
        start, stop, variant = cycles[r % len(cycles)]
        steps += [
            gen.sleep(interval),
            gen.once(start, variant),
            gen.sleep(interval),
            gen.once(stop),
        ]
    return gen.time_limit(time_limit, gen.Phases(tuple(steps)))


def run_phase(cluster: Cluster, clients: Clients, nemeses: Nemeses | None, limit: int) -> None:
    """Run events until the clients (and the nemesis) are done, or virtual time ``limit``."""

    def idle() -> None:
        if clients.finished and (nemeses is None or nemeses.finished):
            cluster.sim.halt = True

    clients.on_idle = idle
    if nemeses is not None:
        nemeses.on_idle = idle
    if clients.finished and (nemeses is None or nemeses.finished):
        return
    cluster.sim.run(limit)


def simulate(
    spec: TestSpec, workload: Any, writer: HistoryWriter, options: dict[str, str], audit: bool
) -> Cluster:
    """The whole run: main phase with faults, heal, settle, final phase. Returns the cluster."""
    config = parse_config(options)
    master = random.Random(spec.seed)
    client_rng = random.Random(master.random())
    nemesis_rng = random.Random(master.random())
    cluster = Cluster(
        config, random.Random(master.random()), KINDS.get(spec.workload, "register"), audit
    )
    sim = cluster.sim
    sim.run(WARM_UP)
    clients = Clients(cluster, writer, spec.concurrency, spec.op_timeout, client_rng)
    nemeses = Nemeses(SimNemesis(cluster, nemesis_rng), writer, sim, nemesis_rng)
    cycles = cycles_for(spec.faults, config)
    rate = spec.rate if spec.rate is not None else 0.0  # the sim's own default: unthrottled
    main = gen.time_limit(spec.time_limit, gen.rate(rate, workload.generator))
    faults = schedule(cycles, spec.nemesis_interval, spec.time_limit) if cycles else None
    clients.start(main)
    nemeses.start(faults)
    run_phase(cluster, clients, nemeses, sim.now + _ns(spec.time_limit + spec.op_timeout + 30))
    if cycles:
        for stop_f in dict.fromkeys(stop for _, stop, _ in cycles):
            nemeses.perform(stop_f)
    read_nodes = config.node_reads or workload.read_every_node
    settle = spec.settle_seconds(read_nodes)
    if settle:
        sim.run(sim.now + _ns(settle))
    final = _final(workload.final_generator, cluster.names if read_nodes else [])
    if final is not None:
        clients.start(gen.time_limit(spec.final_time_limit, final))
        run_phase(cluster, clients, None, sim.now + _ns(spec.final_time_limit + spec.op_timeout))
    return cluster


def _final(workload_final: Generator | None, nodes: list[str]) -> Generator | None:
    reads = gen.seq([Invocation("read-node", name) for name in nodes]) if nodes else None
    parts = [g for g in (workload_final, reads) if g is not None]
    if not parts:
        return None
    return gen.phases(*parts) if len(parts) > 1 else parts[0]


def _ns(seconds: float) -> int:
    return int(seconds * NANOS)
