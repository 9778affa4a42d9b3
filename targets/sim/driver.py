"""Runs the engine's phases in virtual time: simulated clients interpret the workload's pure
generators, the simulated nemesis follows the fault schedule, and every op is written to
the history with virtual nanoseconds. The semantics are those of the threaded runtime in
``harness.workers``: one process per worker, ``info`` retires a process (the worker goes on
as process + concurrency), an op with no answer after the op timeout is ``info``.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from splitbrain.harness import nemesis as nemeses
from splitbrain.harness.base.generator import Context, Generator, Invocation, Pending
from splitbrain.harness.base.history import HistoryWriter, Op
from splitbrain.harness.base.protocols import Cycle, NemesisKind
from splitbrain.targets.sim.cluster import Cluster, Config, Sim
from splitbrain.targets.sim.nemesis import SimNemesis
from splitbrain.targets.sim.nodes import Request

NANOS = 1_000_000_000
POLL = 50_000_000
WARM_UP = NANOS
"""Virtual time the cluster gets to form (elect a leader) before the history begins."""
KINDS = {"list-append": "list"}
"""The cluster's name of a data type, where it differs from ``harness.protocols.data_type``'s."""


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
        nemeses.perform(self.nemesis, Invocation(f, variant), self._record)

    def _record(self, op: Op) -> Op:
        return self.writer.append(op, self.clock)

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


def sim_cycles(kinds: Sequence[tuple[Any, NemesisKind]], config: Config) -> list[Cycle]:
    """The fault cycles of the registry's kinds; ``-o clock=bump`` (or ``strobe``) keeps
    only that clock fault."""
    out: list[Cycle] = []
    for name, kind in kinds:
        cycles = [(start, stop, kind.variant) for start, stop in kind.cycle]
        if name == "clock" and config.clock != "random":
            cycles = [c for c in cycles if c[0] == f"{config.clock}-clock"]
        out.extend(cycles)
    return out


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


class SimRuntime:
    """The engine's phases in virtual time, on one simulated cluster."""

    stopped = False

    def __init__(
        self,
        config: Config,
        seed: int,
        kind: str,
        writer: HistoryWriter,
        concurrency: int,
        op_timeout: float,
        audit: bool = False,
    ) -> None:
        master = random.Random(seed)
        client_rng = random.Random(master.random())
        nemesis_rng = random.Random(master.random())
        self.config = config
        self.cluster = Cluster(config, random.Random(master.random()), kind, audit)
        self.sim = self.cluster.sim
        self.sim.run(WARM_UP)
        self.clients = Clients(self.cluster, writer, concurrency, op_timeout, client_rng)
        nemesis = SimNemesis(self.cluster, nemesis_rng)
        self.nemeses = Nemeses(nemesis, writer, self.sim, nemesis_rng)
        self.reads_nodes = config.node_reads

    def nodes(self) -> list[str]:
        return list(self.cluster.names)

    def faults(self, kinds: Sequence[tuple[Any, NemesisKind]]) -> list[Cycle]:
        return sim_cycles(kinds, self.config)

    def run_phase(
        self, clients: Generator | None, faults: Generator | None, budget_s: float
    ) -> None:
        self.clients.start(clients)
        nemeses = None
        if faults is not None:
            nemeses = self.nemeses
            nemeses.start(faults)
        run_phase(self.cluster, self.clients, nemeses, self.sim.now + _ns(budget_s))

    def nemesis_op(self, inv: Invocation) -> None:
        self.nemeses.perform(inv.f, inv.value)

    def settle(self, seconds: float) -> None:
        self.sim.run(self.sim.now + _ns(seconds))


def _ns(seconds: float) -> int:
    return int(seconds * NANOS)
