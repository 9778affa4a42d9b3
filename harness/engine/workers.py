"""Real runs' half of the engine: worker threads on the monotonic clock.

One thread per worker slot runs the phase's shared generator against the target's clients;
the calling thread is the watchdog that keeps each op's deadline; one thread follows the
fault schedule. ``ThreadRuntime`` offers this to the engine's phase sequence.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from splitbrain.harness import nemesis as nemeses
from splitbrain.harness.base.generator import Context, Generator, Invocation, Pending
from splitbrain.harness.base.history import HistoryWriter, Op, call_safely
from splitbrain.harness.base.locks import take
from splitbrain.harness.base.protocols import Cycle, NemesisKind, RunContext
from splitbrain.harness.engine import assemble

log = logging.getLogger("splitbrain")


class Clock:
    """Nanoseconds since the run began, on the monotonic clock."""

    def __init__(self) -> None:
        self._t0 = time.monotonic_ns()

    def __call__(self) -> int:
        return time.monotonic_ns() - self._t0


class _SharedGenerator:
    """One generator shared by all workers of a phase. Its lock is taken without queueing
    in the kernel (``harness.locks.take``): a queue on it would convoy the workers on the GIL."""

    def __init__(self, generator: Generator | None, workers: int, rng: random.Random) -> None:
        self.gen = generator
        self.workers = workers
        self.rng = rng
        self.in_flight = 0
        self.waiting = 0
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)

    def next(
        self,
        worker: int,
        clock: Callable[[], int],
        stop: threading.Event,
        finished: bool = False,
    ) -> Invocation | None:
        """The next invocation for ``worker`` (counted in flight), or None when done or
        stopping. ``finished``: the worker's previous invocation has completed."""
        lock = self.lock
        if not lock.acquire(False):
            take(lock)
        try:
            if finished:
                self._finish()
            while not stop.is_set():
                if self.gen is None:
                    return None
                now = clock()
                inv, self.gen = self.gen.op(
                    Context(now, worker, self.workers, self.in_flight, self.rng)
                )
                if inv is None:
                    self.gen = None
                    self.cond.notify_all()
                    return None
                if isinstance(inv, Pending):
                    wait = 0.05 if inv.until is None else max(0.0, (inv.until - now) / 1e9)
                    self.waiting += 1
                    try:
                        self.cond.wait(min(wait, 0.05))
                    finally:
                        self.waiting -= 1
                    continue
                self.in_flight += 1
                return inv
            return None
        finally:
            lock.release()

    def done(self) -> None:
        with self.cond:
            self._finish()

    def _finish(self) -> None:
        self.in_flight -= 1
        if self.waiting:
            self.cond.notify_all()


class Recorder:
    """Writes ops with run-relative times; the single place ops enter the history."""

    def __init__(self, writer: HistoryWriter, clock: Callable[[], int]) -> None:
        self.writer = writer
        self.clock = clock

    def record(self, op: Op) -> Op:
        return self.writer.append(op, self.clock)


def _wait_until(at: int | None, clock: Callable[[], int], stop: threading.Event) -> bool:
    """Sleep until run time ``at``; False if stopped meanwhile."""
    if at is None:
        return not stop.is_set()
    delay = (at - clock()) / 1e9
    if delay > 0:
        return not stop.wait(delay)
    return not stop.is_set()


@dataclass
class _Slot:
    """A worker slot between phases: the process it runs as now, and that process's client."""

    worker: int
    process: int
    client: Any = None


class _ClientWorker(threading.Thread):
    """Runs one slot's ops for a phase. After an ``info`` the slot goes on as a new process
    with a new client. A call still running at its deadline is claimed by the watchdog
    (``abandon``), which records it ``info``; this thread then records nothing more and is
    left to finish, or hang, alone."""

    def __init__(
        self,
        slot: _Slot,
        concurrency: int,
        target: Any,
        recorder: Recorder,
        stop: threading.Event,
        shared: _SharedGenerator,
        op_timeout: float,
    ) -> None:
        super().__init__(name=f"worker-{slot.worker}-p{slot.process}", daemon=True)
        self.slot = slot
        self.concurrency = concurrency
        self.target = target
        self.recorder = recorder
        self.stop = stop
        self.shared = shared
        self.op_timeout = op_timeout
        self.error: BaseException | None = None
        self._claim = threading.Lock()
        self.timeout_ns = int(op_timeout * 1e9)
        self.call: Op | None = None
        """The invocation whose completion is still to be recorded; its deadline is its
        time plus the op timeout. Set without the lock: only this thread replaces it, and
        ``abandon`` checks it again under the lock."""
        self.abandoned = False

    def _close_client(self) -> None:
        client, self.slot.client = self.slot.client, None
        if client is not None:
            try:
                client.close()
            except Exception as e:
                log.debug("closing client of process %s: %s", self.slot.process, e)

    def _perform(self, invoke: Op) -> Op:
        if self.slot.client is None:
            try:
                self.slot.client = self.target.client(self.slot.process)
            except Exception as e:  # nothing was sent: the op certainly did not happen
                self.stop.wait(0.1)
                return invoke.completion(
                    "fail", invoke.value, error=f"client open failed: {type(e).__name__}: {e}"
                )
        return call_safely(self.slot.client.invoke, invoke)

    def run_phase(self) -> None:
        shared, clock, slot = self.shared, self.recorder.clock, self.slot
        record = self.recorder.writer.append
        claim = self._claim
        holding = False
        try:
            while True:
                inv = shared.next(slot.worker, clock, self.stop, holding)
                holding = False
                if inv is None:
                    return
                holding = True
                if inv.time is not None and not _wait_until(inv.time, clock, self.stop):
                    return
                invoke = Op(
                    type="invoke", f=inv.f, process=slot.process, value=inv.value, key=inv.key
                )
                self.call = record(invoke, clock)
                done = self._perform(invoke)
                with claim:
                    if self.abandoned:
                        holding = False
                        self._close_client()
                        return
                    self.call = None
                    record(done, clock)
                if done.type == "info":
                    self._close_client()
                    slot.process += self.concurrency
        finally:
            if holding:
                shared.done()

    def overdue(self, now: int) -> int | None:
        """Nanoseconds (run time) until the call in flight is due, or None if there is none."""
        call = self.call
        if call is None or call.time is None:
            return None
        return call.time + self.timeout_ns - now

    def abandon(self, now: int) -> bool:
        """Record the call in flight ``info`` if it is past its deadline; True if it was."""
        call = self.call
        left = self.overdue(now)
        if call is None or left is None or left > 0:
            return False
        with self._claim:
            if self.call is not call or self.abandoned:
                return False
            self.abandoned = True
            self.call = None
            self.recorder.record(
                call.completion(
                    "info", call.value, error=f"timeout: no answer within {self.op_timeout:g}s"
                )
            )
            return True

    def successor(self) -> _ClientWorker:
        """A new thread for this slot, as the next process, with a client of its own."""
        slot = _Slot(self.slot.worker, self.slot.process + self.concurrency)
        return _ClientWorker(
            slot,
            self.concurrency,
            self.target,
            self.recorder,
            self.stop,
            self.shared,
            self.op_timeout,
        )

    def run(self) -> None:
        try:
            self.run_phase()
        except BaseException as e:  # surfaced by the run, which then tears down
            self.error = e
            self.stop.set()
            log.error("%s failed: %s", self.name, "".join(traceback.format_exception(e)))


WATCH_S = 0.05
"""Longest the watchdog sleeps between looking for calls past their deadline."""


def _run_clients(
    slots: list[_Slot],
    generator: Generator | None,
    spawn: Callable[[_Slot, _SharedGenerator], _ClientWorker],
    rng: random.Random,
    clock: Callable[[], int],
    stop: threading.Event,
    deadline_s: float | None,
) -> None:
    """Run a phase on every slot; the calling thread is the watchdog that keeps op deadlines."""
    if generator is None:
        return
    shared = _SharedGenerator(generator, len(slots), rng)
    threads = [spawn(slot, shared) for slot in slots]
    for t in threads:
        t.start()
    end = None if deadline_s is None else time.monotonic() + deadline_s
    try:
        while True:
            alive = [t for t in threads if t.is_alive()]
            if not alive:
                break
            if end is not None and time.monotonic() > end:
                stop.set()
            now = clock()
            wait = WATCH_S
            for i, t in enumerate(threads):
                if t.abandon(now):
                    log.warning(
                        "process %s: no answer within %gs; recorded info, going on as a new process",
                        t.slot.process,
                        t.op_timeout,
                    )
                    shared.done()
                    threads[i] = t.successor()
                    threads[i].start()
                elif (left := t.overdue(now)) is not None:
                    wait = min(wait, left / 1e9)
            alive[0].join(max(wait, 0.001))
    except BaseException:
        stop.set()
        for t in threads:
            t.join(5)
        raise
    for slot, t in zip(slots, threads, strict=True):
        slot.process, slot.client = t.slot.process, t.slot.client
        if t.error is not None:
            raise t.error


class _NemesisWorker(threading.Thread):
    def __init__(
        self,
        nemesis_by_f: dict[str, Any],
        generator: Generator,
        recorder: Recorder,
        rng: random.Random,
        stop: threading.Event,
    ) -> None:
        super().__init__(name="nemesis", daemon=True)
        self.by_f = nemesis_by_f
        self.shared = _SharedGenerator(generator, 1, rng)
        self.recorder = recorder
        self.stop = stop
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while True:
                inv = self.shared.next(0, self.recorder.clock, self.stop)
                if inv is None:
                    return
                try:
                    if _wait_until(inv.time, self.recorder.clock, self.stop):
                        nemeses.perform(self.by_f[inv.f], inv, self.recorder.record)
                finally:
                    self.shared.done()
        except BaseException as e:
            self.error = e
            self.stop.set()
            log.error("nemesis failed: %s", "".join(traceback.format_exception(e)))


class ThreadRuntime:
    """Runs the phases on threads against a real target's clients and nemeses."""

    reads_nodes = False

    def __init__(self, target: Any, ctx: RunContext, recorder: Recorder) -> None:
        self.target = target
        self.ctx = ctx
        self.recorder = recorder
        self.stop = threading.Event()
        self.slots = [_Slot(w, w) for w in range(ctx.concurrency)]
        self.by_f: dict[str, Any] = {}
        self.live: list[Any] = []
        """Nemeses set up so far, for teardown (also of one whose setup failed)."""

    @property
    def stopped(self) -> bool:
        return self.stop.is_set()

    def nodes(self) -> list[str]:
        return list(self.target.nodes())

    def faults(self, kinds: Sequence[tuple[Any, NemesisKind]]) -> list[Cycle]:
        cycles: list[Cycle] = []
        for name, kind in kinds:
            nem = assemble.build_nemesis(kind, name, self.target)
            self.live.append(nem)
            nem.setup(self.target, self.ctx)
            for start, stop in kind.cycle:
                self.by_f[start] = self.by_f[stop] = nem
                cycles.append((start, stop, kind.variant))
        return cycles

    def _spawn(self, slot: _Slot, shared: _SharedGenerator) -> _ClientWorker:
        ctx = self.ctx
        return _ClientWorker(
            slot, ctx.concurrency, self.target, self.recorder, self.stop, shared, ctx.op_timeout
        )

    def run_phase(
        self, clients: Generator | None, faults: Generator | None, budget_s: float
    ) -> None:
        worker = None
        if faults is not None:
            rng = random.Random(self.ctx.rng.random())
            worker = _NemesisWorker(self.by_f, faults, self.recorder, rng, self.stop)
            worker.start()
        _run_clients(
            self.slots, clients, self._spawn, self.ctx.rng, self.recorder.clock, self.stop, budget_s
        )
        if worker is not None:
            worker.join()
            if worker.error is not None:
                raise worker.error

    def nemesis_op(self, inv: Invocation) -> None:
        nemeses.perform(self.by_f[inv.f], inv, self.recorder.record)

    def settle(self, seconds: float) -> None:
        self.stop.wait(seconds)

    def close(self) -> None:
        """Stop the workers and close every client still open."""
        self.stop.set()
        for slot in self.slots:
            if slot.client is not None:
                try:
                    slot.client.close()
                except Exception as e:
                    log.debug("closing client: %s", e)
                slot.client = None
