"""Run a test from spec to verdict: set up, drive workers and nemeses, record, tear down, check, store."""

from __future__ import annotations

import logging
import random
import shlex
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from splitbrain import targets, workloads
from splitbrain.checkers import stats
from splitbrain.harness import generator as gen
from splitbrain.harness import nemesis as nemeses
from splitbrain.harness import store
from splitbrain.harness.generator import Context, Generator, Invocation, Pending
from splitbrain.harness.history import NEMESIS, HistoryWriter, Op, Valid, merge_valid
from splitbrain.harness.locks import take
from splitbrain.harness.notation import value_text
from splitbrain.harness.protocols import HarnessInputError, RunContext

log = logging.getLogger("splitbrain")
ABANDON_GRACE_S = 15.0
"""How long past a phase's deadline a worker stuck in a client call is waited for."""


@dataclass
class TestSpec:
    """Everything needed to run, and rerun, a test."""

    __test__ = False  # a spec, not a pytest test class

    target: str = "memory"
    workload: str = "register"
    nemesis: list[str] = field(default_factory=list)
    concurrency: int = 5
    time_limit: float = 10.0
    rate: float | None = None
    """Ops/s across workers; 0 is as fast as possible; None takes the target's
    ``default_rate`` (memory: 100, enough to find its faults, and a run of a few MB)."""
    keys: int = 8
    seed: int | None = None
    store: str = "reports"
    name: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    model: str | None = None
    nemesis_interval: float = 3.0
    """Seconds between a fault's start and stop, and between faults."""
    settle: float | None = None
    """Seconds to let the system recover after healing, before the final phase."""
    op_timeout: float = 5.0
    final_time_limit: float = 30.0
    check_timeout: float | None = 120.0
    ssh: dict[str, Any] | None = None
    """Remote nodes (``harness.control.sshopts.SshOptions`` as a dict); None means local nodes."""

    def validate(self) -> None:
        if self.time_limit < 0:
            raise HarnessInputError(f"--time-limit must not be negative, got {self.time_limit:g}")
        if self.concurrency < 1:
            raise HarnessInputError(f"--concurrency must be at least 1, got {self.concurrency}")
        if self.rate is not None and self.rate < 0:
            raise HarnessInputError(f"--rate must not be negative, got {self.rate:g}")
        if self.keys < 1:
            raise HarnessInputError(f"--keys must be at least 1, got {self.keys}")
        if self.nemesis_interval <= 0:
            raise HarnessInputError("--nemesis-interval must be positive")
        if self.target not in targets.TARGETS:
            raise HarnessInputError(
                f"unknown target {self.target!r}; known: {', '.join(sorted(targets.TARGETS))}"
            )
        if self.workload not in workloads.WORKLOADS:
            raise HarnessInputError(
                f"unknown workload {self.workload!r}; known: {', '.join(sorted(workloads.WORKLOADS))}"
            )
        for name in self.nemesis:
            if name != nemeses.NONE and name not in nemeses.NEMESES:
                raise HarnessInputError(
                    f"unknown nemesis {name!r}; known: {', '.join(sorted([nemeses.NONE, *nemeses.NEMESES]))}"
                )

    def settle_seconds(self, reads_every_node: bool) -> float:
        """How long the system recovers before the final phase: after faults, or before
        nodes are read one by one (replication may still be in flight without faults)."""
        if not self.faults and not reads_every_node:
            return 0.0
        return self.settle if self.settle is not None else min(5.0, self.nemesis_interval)

    @property
    def faults(self) -> list[str]:
        return [n for n in self.nemesis if n != nemeses.NONE]

    @property
    def run_name(self) -> str:
        return self.name or f"{self.target}-{self.workload}"

    def command(self) -> str:
        """The command line that replays this test."""
        argv = ["splitbrain", "test", "--target", self.target, "--workload", self.workload]
        argv += ["--nemesis", ",".join(self.nemesis) or nemeses.NONE]
        argv += ["--concurrency", str(self.concurrency), "--time-limit", f"{self.time_limit:g}"]
        if self.rate is not None:
            argv += ["--rate", f"{self.rate:g}"]
        argv += ["--keys", str(self.keys), "--seed", str(self.seed)]
        if self.name:
            argv += ["--name", self.name]
        if self.model:
            argv += ["--model", self.model]
        if self.faults:
            argv += ["--nemesis-interval", f"{self.nemesis_interval:g}"]
        if self.ssh:
            from splitbrain.harness.control.sshopts import command_args

            argv += command_args(self.ssh)
        for k, v in sorted(self.options.items()):
            argv += ["-o", f"{k}={v}"]
        return shlex.join(argv)


@dataclass
class RunResult:
    valid: Valid
    run_dir: Path
    results: dict[str, Any]
    history: list[Op]
    spec: TestSpec
    interrupted: bool = False


class _Clock:
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


class _Recorder:
    """Writes ops with run-relative times; the single place ops enter the history."""

    def __init__(self, writer: HistoryWriter, clock: Callable[[], int]) -> None:
        self.writer = writer
        self.clock = clock

    def record(self, op: Op) -> Op:
        return self.writer.append(op, self.clock)


def _complete_info(invoke: Op, error: str) -> Op:
    return invoke.completion("info", invoke.value, error=error)


def _invoke_safely(call: Callable[[Op], Op], invoke: Op) -> Op:
    try:
        done = call(invoke)
    except Exception as e:  # a client that raised: the op may or may not have happened
        return _complete_info(invoke, f"{type(e).__name__}: {e}")
    if done.type not in ("ok", "fail", "info"):
        return _complete_info(invoke, f"client returned type {done.type!r}")
    done.process = invoke.process
    done.f = invoke.f
    if done.key is None:
        done.key = invoke.key
    return done


def _wait_until(at: int | None, clock: Callable[[], int], stop: threading.Event) -> bool:
    """Sleep until run time ``at``; False if stopped meanwhile."""
    if at is None:
        return not stop.is_set()
    delay = (at - clock()) / 1e9
    if delay > 0:
        return not stop.wait(delay)
    return not stop.is_set()


class _ClientWorker(threading.Thread):
    """Runs ops for one worker slot; after an ``info`` it continues as a new process."""

    def __init__(
        self, worker: int, concurrency: int, target: Any, recorder: _Recorder, stop: threading.Event
    ) -> None:
        super().__init__(name=f"worker-{worker}", daemon=True)
        self.worker = worker
        self.concurrency = concurrency
        self.process = worker
        self.target = target
        self.recorder = recorder
        self.stop = stop
        self.client: Any = None
        self.shared: _SharedGenerator | None = None
        self.error: BaseException | None = None

    def _fresh_client(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            except Exception as e:
                log.debug("closing client of process %s: %s", self.process, e)
        self.client = None
        self.client = self.target.client(self.process)

    def _perform(self, invoke: Op) -> Op:
        if self.client is None:
            try:
                self._fresh_client()
            except Exception as e:  # nothing was sent: the op certainly did not happen
                self.client = None
                self.stop.wait(0.1)
                return invoke.completion(
                    "fail", invoke.value, error=f"client open failed: {type(e).__name__}: {e}"
                )
        return _invoke_safely(self.client.invoke, invoke)

    def run_phase(self, shared: _SharedGenerator) -> None:
        clock = self.recorder.clock
        record = self.recorder.writer.append
        in_flight = False
        try:
            while True:
                finished, in_flight = in_flight, False
                inv = shared.next(self.worker, clock, self.stop, finished)
                if inv is None:
                    return
                in_flight = True
                if inv.time is not None and not _wait_until(inv.time, clock, self.stop):
                    return
                invoke = record(
                    Op(type="invoke", f=inv.f, process=self.process, value=inv.value, key=inv.key),
                    clock,
                )
                done = record(self._perform(invoke), clock)
                if done.type == "info":
                    self.process += self.concurrency
                    self._fresh_client()
        finally:
            if in_flight:
                shared.done()

    def run(self) -> None:
        try:
            assert self.shared is not None
            self.run_phase(self.shared)
        except BaseException as e:  # surfaced by the run, which then tears down
            self.error = e
            self.stop.set()
            log.error("worker %d failed: %s", self.worker, "".join(traceback.format_exception(e)))


def _run_clients(
    workers: list[_ClientWorker],
    generator: Generator | None,
    rng: random.Random,
    deadline_s: float | None,
) -> None:
    if generator is None:
        return
    shared = _SharedGenerator(generator, len(workers), rng)
    threads = []
    for w in workers:
        t = _ClientWorker(w.worker, w.concurrency, w.target, w.recorder, w.stop)
        t.process, t.client, t.shared = w.process, w.client, shared
        threads.append((w, t))
        t.start()
    end = None if deadline_s is None else time.monotonic() + deadline_s
    abandon_after = None if end is None else end + ABANDON_GRACE_S
    try:
        for _, t in threads:
            while t.is_alive():
                t.join(0.1)
                now = time.monotonic()
                if end is not None and now > end:
                    workers[0].stop.set()
                if abandon_after is not None and now > abandon_after:
                    log.error(
                        "%s is stuck in a client call; abandoning it (its op stays indeterminate)",
                        t.name,
                    )
                    break
    except BaseException:
        workers[0].stop.set()
        for _, t in threads:
            t.join(5)
        raise
    for w, t in threads:
        if t.is_alive():
            w.process, w.client = t.process + w.concurrency, None
            continue
        w.process, w.client = t.process, t.client
        if t.error is not None:
            raise t.error


class _NemesisWorker(threading.Thread):
    def __init__(
        self,
        nemesis_by_f: dict[str, Any],
        generator: Generator,
        recorder: _Recorder,
        rng: random.Random,
        stop: threading.Event,
    ) -> None:
        super().__init__(name="nemesis", daemon=True)
        self.by_f = nemesis_by_f
        self.shared = _SharedGenerator(generator, 1, rng)
        self.recorder = recorder
        self.stop = stop
        self.error: BaseException | None = None

    def invoke(self, inv: Invocation) -> Op:
        invoke = self.recorder.record(Op(type="invoke", f=inv.f, process=NEMESIS, value=inv.value))
        done = self.recorder.record(_invoke_safely(self.by_f[inv.f].invoke, invoke))
        log.info("fault %s: %s %s", done.f, done.type, value_text(done.value, 200))
        return done

    def run(self) -> None:
        try:
            while True:
                inv = self.shared.next(0, self.recorder.clock, self.stop)
                if inv is None:
                    return
                try:
                    if _wait_until(inv.time, self.recorder.clock, self.stop):
                        self.invoke(inv)
                finally:
                    self.shared.done()
        except BaseException as e:
            self.error = e
            self.stop.set()
            log.error("nemesis failed: %s", "".join(traceback.format_exception(e)))


def fault_schedule(cycles: list[tuple[str, str]], interval: float, time_limit: float) -> Generator:
    """Quiet for ``interval``, a fault for ``interval``, healed, and so on, within the time limit."""
    rounds = max(1, int(time_limit / (2 * interval)) + 1)
    steps: list[Generator] = []
    for r in range(rounds):
        start, stop = cycles[r % len(cycles)]
        steps += [gen.sleep(interval), gen.once(start), gen.sleep(interval), gen.once(stop)]
    return gen.time_limit(time_limit, gen.Phases(tuple(steps)))


def _logger(run_dir: Path) -> logging.FileHandler:
    handler = logging.FileHandler(run_dir / store.LOG, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    return handler


def check_history(
    history: list[Op], checkers: dict[str, Callable[[list[Op]], dict[str, Any]]]
) -> dict[str, Any]:
    """Run every checker; one that raises is reported as unknown with its error, not a crash."""
    parts: dict[str, Any] = {"stats": stats.check(history)}
    for name, checker in checkers.items():
        log.info("checking: %s (%d ops)", name, len(history))
        try:
            parts[name] = checker(history)
        except Exception as e:
            log.error("checker %s failed: %s", name, "".join(traceback.format_exception(e)))
            parts[name] = {"valid": "unknown", "error": f"{type(e).__name__}: {e}"}
        log.info("%s: %s", name, parts[name].get("valid"))
    valid = merge_valid(p.get("valid", "unknown") for p in parts.values())
    log.info("verdict: %s", valid)
    return {"valid": valid, "checkers": parts}


def prepare(spec: TestSpec) -> tuple[Any, workloads.Workload]:
    """Validate the spec and build the target and workload, before anything is set up."""
    spec.validate()
    target = targets.load(spec.target)
    if spec.ssh:
        from splitbrain.harness.control.ssh import attach

        target = attach(target, spec.ssh)
    if spec.rate is None:
        spec.rate = float(getattr(target, "default_rate", 0.0))
    unknown = sorted(set(spec.options) - set(target.options))
    if unknown:
        raise HarnessInputError(
            f"unknown -o key {unknown[0]!r} for target {spec.target!r}; known: {', '.join(sorted(target.options)) or 'none'}"
        )
    runs = getattr(target, "supported_workloads", None)
    if runs is not None and spec.workload not in runs:
        raise HarnessInputError(
            f"target {spec.target!r} cannot run workload {spec.workload!r}; it runs: {', '.join(sorted(runs))}"
        )
    supported = getattr(target, "supported_nemeses", None)
    for name in spec.faults:
        if supported is not None and name not in supported:
            raise HarnessInputError(
                f"target {spec.target!r} cannot take nemesis {name!r}; it supports: {', '.join(sorted(supported)) or 'none'}"
            )
    configure = getattr(target, "configure", None)
    if callable(configure):
        configure(dict(spec.options))
    wspec = workloads.WorkloadSpec(
        keys=spec.keys,
        concurrency=spec.concurrency,
        seed=spec.seed or 0,
        model=spec.model,
        check_timeout=spec.check_timeout,
    )
    try:
        workload = workloads.load(spec.workload, wspec)
    except ValueError as e:
        raise HarnessInputError(str(e)) from None
    refuse = getattr(target, "refuse_workload", None)
    if callable(refuse):
        refuse(spec.workload, spec.model, dict(spec.options))
    if workload.read_every_node and not getattr(target, "reads_every_node", False):
        raise HarnessInputError(
            f"workload {spec.workload!r} reads every node directly, which target {spec.target!r} cannot do"
        )
    return target, workload


def run(spec: TestSpec, *, on_start: Callable[[Path], None] | None = None) -> RunResult:
    """Run a test end to end. Raises HarnessInputError for bad input before anything is set up."""
    if spec.seed is None:
        spec.seed = random.SystemRandom().randrange(2**31)
    target, workload = prepare(spec)
    store_dir = Path(spec.store)
    run_dir = store.new_run_dir(store_dir, spec.run_name)
    handler = _logger(run_dir)
    started = datetime.now()
    test_doc = asdict(spec) | {
        "run_id": run_dir.name,
        "command": spec.command(),
        "started": started.isoformat(),
    }
    store.write_json(run_dir / store.TEST, test_doc)
    store.point_latest(store_dir, run_dir)
    if on_start is not None:
        on_start(run_dir)
    clock = _Clock()
    ctx = RunContext(
        run_id=f"{spec.seed}-{run_dir.name}",
        run_dir=run_dir,
        seed=spec.seed,
        rng=random.Random(spec.seed),
        log=log,
        options=dict(spec.options),
        workload=spec.workload,
        op_timeout=spec.op_timeout,
        concurrency=spec.concurrency,
        clock=clock,
        sleep=time.sleep,
    )
    writer = HistoryWriter(run_dir / store.HISTORY)
    recorder = _Recorder(writer, clock)
    interrupted = False
    failure: BaseException | None = None
    live_nemeses: list[Any] = []
    try:
        driver = getattr(target, "drive", None)
        if callable(driver):
            driver(spec, workload, recorder.writer, ctx)
        else:
            _drive_threads(spec, target, workload, recorder, ctx, live_nemeses)
    except KeyboardInterrupt:
        interrupted = True
        log.warning("interrupted: tearing down, then checking the history recorded so far")
    except HarnessInputError:
        raise
    except BaseException as e:
        failure = e
        log.error("run failed: %s", "".join(traceback.format_exception(e)))
    finally:
        _teardown(target, live_nemeses, run_dir)
        writer.close()
    if failure is not None:
        logging.getLogger().removeHandler(handler)
        raise failure
    history = writer.ops
    results = check_history(history, workload.checkers)
    if interrupted:
        results["interrupted"] = True
    test_doc["duration_s"] = round((datetime.now() - started).total_seconds(), 3)
    store.write_json(run_dir / store.TEST, test_doc)
    store.write_json(run_dir / store.RESULTS, results)
    store.compress_history(run_dir)
    _write_report(run_dir, history)
    logging.getLogger().removeHandler(handler)
    handler.close()
    return RunResult(results["valid"], run_dir, results, history, spec, interrupted)


def _drive_threads(
    spec: TestSpec,
    target: Any,
    workload: workloads.Workload,
    recorder: _Recorder,
    ctx: RunContext,
    live_nemeses: list[Any],
) -> None:
    log.info("setting up target %s", spec.target)
    target.setup(ctx)
    by_f: dict[str, Any] = {}
    cycles: list[tuple[str, str]] = []
    for name in spec.faults:
        nem = nemeses.build(name, target)
        live_nemeses.append(nem)
        nem.setup(target, ctx)
        for start, stop in nemeses.kind(name).cycle:
            by_f[start] = by_f[stop] = nem
            cycles.append((start, stop))
    stop = threading.Event()
    rng = ctx.rng
    workers = [
        _ClientWorker(w, spec.concurrency, target, recorder, stop) for w in range(spec.concurrency)
    ]
    main = gen.time_limit(spec.time_limit, gen.rate(spec.rate, workload.generator))
    nemesis_worker = None
    if cycles:
        heal = gen.seq([Invocation(stop_f) for _start, stop_f in dict.fromkeys(cycles)])
        schedule = gen.phases(fault_schedule(cycles, spec.nemesis_interval, spec.time_limit), heal)
        nemesis_worker = _NemesisWorker(by_f, schedule, recorder, random.Random(rng.random()), stop)
        nemesis_worker.start()
    log.info("main phase: %gs, %d workers", spec.time_limit, spec.concurrency)
    try:
        _run_clients(workers, main, rng, spec.time_limit + spec.op_timeout + 30)
        if nemesis_worker is not None:
            nemesis_worker.join()
            if nemesis_worker.error is not None:
                raise nemesis_worker.error
        settle = spec.settle_seconds(workload.read_every_node)
        if settle:
            log.info("settling for %gs", settle)
            ctx.sleep(settle)
        final_gen = workload.final_generator
        if workload.read_every_node:
            reads = gen.seq([Invocation("read-node", node) for node in target.nodes()])
            final_gen = reads if final_gen is None else gen.phases(final_gen, reads)
        if final_gen is not None and not stop.is_set():
            log.info("final phase")
            final = gen.time_limit(spec.final_time_limit, final_gen)
            _run_clients(workers, final, rng, spec.final_time_limit + spec.op_timeout + 30)
    finally:
        stop.set()
        for w in workers:
            if w.client is not None:
                try:
                    w.client.close()
                except Exception as e:
                    log.debug("closing client: %s", e)


def _teardown(target: Any, live_nemeses: list[Any], run_dir: Path) -> None:
    """Undo faults first, then the target; every step runs even if an earlier one failed."""
    for nem in reversed(live_nemeses):
        _quietly(f"nemesis {getattr(nem, 'name', nem)} teardown", nem.teardown)
    _quietly("collecting logs", lambda: target.collect_logs(run_dir / store.LOGS_DIR))
    _quietly("target teardown", target.teardown)


def _quietly(what: str, fn: Callable[[], None]) -> None:
    try:
        fn()
    except KeyboardInterrupt:
        log.error("%s interrupted; run `splitbrain cleanup` if anything is left", what)
    except Exception as e:
        log.error("%s failed: %s", what, "".join(traceback.format_exception(e)))


def _write_report(run_dir: Path, history: list[Op]) -> None:
    from splitbrain.harness import report

    try:
        report.write_report(run_dir, ops=history)
    except Exception as e:
        log.error("writing report.html failed: %s", "".join(traceback.format_exception(e)))
