"""Run a test from spec to verdict: set up, drive workers and nemeses, record, tear down, check, store."""

from __future__ import annotations

import contextlib
import inspect
import logging
import random
import signal
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from splitbrain.checkers import cap, spectrum, stats
from splitbrain.harness import nemesis as nemeses
from splitbrain.harness import report
from splitbrain.harness.base import generator as gen
from splitbrain.harness.base import signals, store
from splitbrain.harness.base.errors import CheckerFailed
from splitbrain.harness.base.generator import Generator, Invocation
from splitbrain.harness.base.history import BadOp, HistoryWriter, Op, Valid
from splitbrain.harness.base.protocols import (
    Configurable,
    ContributesResults,
    Cycle,
    HarnessInputError,
    HasDefaultRate,
    HasLogs,
    HasWorkloadRates,
    Nemesis,
    NemesisKind,
    OwnsTime,
    RefusesWorkloads,
    RunContext,
    Runtime,
    Target,
    Workload,
)
from splitbrain.harness.base.verdict import (
    Verdict,
    broken,
    compose,
    is_crashed,
    not_a_result,
    raised,
    run_failures,
)
from splitbrain.harness.control.identity import claim as claim_identity
from splitbrain.harness.engine import assemble
from splitbrain.harness.engine.spec import TestSpec
from splitbrain.harness.engine.workers import Clock, Recorder, ThreadRuntime

log = logging.getLogger("splitbrain")


@dataclass
class RunResult:
    """What ``run`` returns: the verdict, where the run is stored, and what was checked."""

    valid: Valid | None
    """The composed checkers' ``valid``: True, False or "unknown"; None only in the result of
    a ``CheckerFailed`` (a checker raised: no verdict)."""
    run_dir: Path
    results: dict[str, Any]
    history: list[Op]
    spec: TestSpec
    interrupted: bool = False
    teardown_errors: list[str] = field(default_factory=list)
    """One line per teardown step that failed, saying what it left behind."""
    store_errors: list[str] = field(default_factory=list)
    """One line per output that could not be saved (a full or unwritable store)."""

    @property
    def verdict(self) -> Verdict | None:
        """None when a checker raised (no verdict): only in a ``CheckerFailed``'s result."""
        return None if self.valid is None else Verdict.of(self.valid)


PHASE_SLACK_S = 30.0
"""Run time a phase may take past its time limit and op timeout before the run is stopped."""


def fault_schedule(cycles: list[Cycle], interval: float, time_limit: float) -> Generator:
    """Quiet for ``interval``, a fault for ``interval``, healed, and so on, within the time limit."""
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


def final_phase(workload_final: Generator | None, nodes: list[str]) -> Generator | None:
    """The workload's own final reads, then one ``read-node`` of each of ``nodes``."""
    reads = gen.seq([Invocation("read-node", node) for node in nodes]) if nodes else None
    parts = [g for g in (workload_final, reads) if g is not None]
    if not parts:
        return None
    return gen.phases(*parts) if len(parts) > 1 else parts[0]


def interpret(
    spec: TestSpec,
    workload: Workload,
    runtime: Runtime,
    kinds: Sequence[tuple[Any, NemesisKind]] | None = None,
) -> None:
    """The one phase sequence of every run, real or simulated: the main phase with the fault
    schedule beside it, heal, settle, the final phase. ``kinds``: the spec's nemeses
    (what it named, its kind), found in the registry when not given."""
    if kinds is None:
        kinds = [(name, assemble.nemesis_kind(name)) for name in spec.faults]
    cycles = runtime.faults(kinds)
    rate = 0.0 if spec.rate is None else spec.rate  # None: prepare() found no target default
    main = gen.time_limit(spec.time_limit, gen.rate(rate, workload.generator))
    schedule = fault_schedule(cycles, spec.nemesis_interval, spec.time_limit) if cycles else None
    log.info("main phase: %gs, %d workers", spec.time_limit, spec.concurrency)
    runtime.run_phase(main, schedule, spec.time_limit + spec.op_timeout + PHASE_SLACK_S)
    for stop_f in nemeses.heals(cycles):
        runtime.nemesis_op(Invocation(stop_f))
    read_nodes = workload.read_every_node or runtime.reads_nodes
    settle = spec.settle_seconds(read_nodes)
    if settle:
        log.info("settling for %gs", settle)
        runtime.settle(settle)
    final = final_phase(workload.final_generator, runtime.nodes() if read_nodes else [])
    if final is not None and not runtime.stopped:
        log.info("final phase")
        final = gen.time_limit(spec.final_time_limit, final)
        runtime.run_phase(final, None, spec.final_time_limit + spec.op_timeout + PHASE_SLACK_S)


class _RunLogHandler(logging.FileHandler):
    """splitbrain.log; on a full disk it drops records instead of printing tracebacks."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802
        pass


@contextlib.contextmanager
def _run_log(run_dir: Path) -> Iterator[None]:
    """The run's ``splitbrain.log``: records of the ``splitbrain`` logger (and its children)
    at INFO and above, for the duration of the run. Other loggers are left alone."""
    handler = _RunLogHandler(run_dir / store.LOG, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    level = log.level
    if log.getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)
    log.addHandler(handler)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
        handler.close()


KEY_PROGRESS_SECONDS = 1.0
"""How often a checker's progress over keys is logged (the status line reads the log)."""


def _takes_progress(checker: Callable[..., Any]) -> bool:
    try:
        return "progress" in inspect.signature(checker).parameters
    except (TypeError, ValueError):
        return False


def _key_progress(name: str, ops: int) -> Callable[[int, int], None]:
    """A checker's ``progress(decided, keys)``, logged as ``checking: NAME 3/8 keys (N ops)``
    at most once a second, and when the last key is decided."""
    last = [0.0]

    def progress(decided: int, keys: int) -> None:
        now = time.monotonic()
        if decided < keys and now - last[0] < KEY_PROGRESS_SECONDS:
            return
        last[0] = now
        log.info("checking: %s %d/%d keys (%d ops)", name, decided, keys, ops)

    return progress


def check_history(
    history: Sequence[Op], checkers: dict[str, Callable[[list[Op]], dict[str, Any]]]
) -> dict[str, Any]:
    """Run every checker. One that raises, or returns no result (``verdict.not_a_result``),
    has no verdict (``valid`` None, never ``unknown``, which means only out of time or
    memory), and then neither has the run; the others still run, and the traceback goes to
    the log. A malformed op (``BadOp``: the workload's or its client's ops are not the
    model's) is bad input: HarnessInputError."""
    parts: dict[str, Any] = {"stats": stats.check(history)}
    for name, checker in checkers.items():
        log.info("checking: %s (%d ops)", name, len(history))
        try:
            if _takes_progress(checker):
                part = checker(history, progress=_key_progress(name, len(history)))
            else:
                part = checker(history)
        except BadOp as e:
            raise HarnessInputError(f"checker {name}: {store.HISTORY}: {e}") from None
        except Exception as e:
            log.error("checker %s failed: %s", name, "".join(traceback.format_exception(e)))
            part = raised(e)
        else:
            problem = not_a_result(part)
            if problem:
                log.error("checker %s %s", name, problem)
                part = broken(problem)
        parts[name] = part
        log.info("%s: %s", name, parts[name].get("valid"))
    valid = compose(parts)
    log.info("verdict: %s", valid)
    return {"valid": valid, "checkers": parts}


def cap_profile(history: Sequence[Op], results: dict[str, Any]) -> dict[str, Any]:
    """The run's CAP profile (``checkers.cap``); one that raises is recorded as crashed (the
    run is stored, then fails: ``run_failures``)."""
    try:
        return cap.of_run(list(history), results)
    except Exception as e:
        log.error("CAP profile failed: %s", "".join(traceback.format_exception(e)))
        return raised(e)


def decided_models(
    results: dict[str, Any], decides: dict[str, tuple[str, ...]]
) -> dict[str, tuple[str, dict[str, Any]]]:
    """The models the run's own checkers settled, so the spectrum does not check them again:
    a checker of one model settles it either way; a checker of several, only when it holds."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for checker, models in decides.items():
        result = (results.get("checkers") or {}).get(checker)
        if not isinstance(result, dict) or is_crashed(result):
            continue
        if len(models) == 1 or result.get("valid") is True:
            out.update({model: (checker, result) for model in models})
    return out


SPECTRUM_SECONDS = 5.0
"""Seconds the models the run did not claim may take together in its spectrum (the check
timeout if shorter); a model out of time there is unknown, one left unchecked says why."""


def add_spectrum(
    results: dict[str, Any], history: Sequence[Op], workload: Any, timeout: float | None
) -> None:
    """``results["spectrum"]``: every model of the workload's data type, reusing the run's own
    verdicts. It reports; it does not vote in the run's verdict (the claimed models do)."""
    timeout = SPECTRUM_SECONDS if timeout is None else min(timeout, SPECTRUM_SECONDS)
    data_type = getattr(workload, "data_type", None)
    if data_type is None:
        return
    decided = decided_models(results, dict(getattr(workload, "decides", {})))
    log.info("spectrum: %s (%d ops)", data_type, len(history))
    try:
        results["spectrum"] = spectrum.spectrum(
            list(history), data_type, timeout=timeout, decided=decided, budget=timeout
        )
    except Exception as e:
        log.error("spectrum failed: %s", "".join(traceback.format_exception(e)))
        results["spectrum"] = {"data_type": data_type, **raised(e)}


CHECK_INTERRUPTED = "checking was interrupted"
TARGET_RESULTS = "target-results"
"""The part of ``results["checkers"]`` that says a target's ``extra_results`` raised."""


def add_results(results: dict[str, Any], target: ContributesResults) -> None:
    """Merge what a target measured itself (the maelstrom router's network statistics) into
    ``results``: its ``checkers`` join the others and count in the verdict. A target whose
    ``extra_results`` raises is recorded as a crashed part, ``target-results``."""
    try:
        extra = dict(target.extra_results())
        results["checkers"].update(extra.pop("checkers", {}))
        results.update(extra)
    except Exception as e:
        log.error("target results failed: %s", "".join(traceback.format_exception(e)))
        results["checkers"][TARGET_RESULTS] = raised(e)
    if results.get("error") != CHECK_INTERRUPTED:  # an interrupted check's unknown stays
        results["valid"] = compose(results["checkers"])


def failed_run(result: RunResult, failures: dict[str, str]) -> CheckerFailed:
    """The one line of a run whose checking raised, naming what, with what, and where it is."""
    also = "".join(f"; {p}" for p in result.store_errors)
    also += "".join(f"; teardown: {p}" for p in result.teardown_errors)
    where = f"the run is stored in {result.run_dir} (traceback in its {store.LOG}){also}"
    return CheckerFailed(failures, where, result)


def prepare(spec: TestSpec) -> assemble.Parts:
    """Validate the spec and build its parts, before anything is set up."""
    spec.validate()
    parts = assemble.prepare(spec)
    target = parts.target
    if isinstance(target, RefusesWorkloads):
        model = None if spec.model is None else assemble.label(spec.model)
        target.refuse_workload(assemble.label(spec.workload), model, dict(spec.options))
    if spec.rate is None:
        spec.rate = default_rate(target, assemble.label(spec.workload))
    return parts


def default_rate(target: Any, workload: str) -> float:
    """The rate of a run that gives no ``--rate``: the target's for this workload, else its
    own, else 0 (as fast as it goes)."""
    rate = target.default_rate_for(workload) if isinstance(target, HasWorkloadRates) else None
    if rate is None and isinstance(target, HasDefaultRate):
        rate = target.default_rate
    return float(rate or 0.0)


def run(spec: TestSpec, *, on_start: Callable[[Path], None] | None = None) -> RunResult:
    """Run a test end to end. Raises HarnessInputError for bad input before anything is set up,
    and ``CheckerFailed`` (255) once the run is stored when a checker, the spectrum or the CAP
    profile raised (a bug: no verdict, never ``unknown``); its ``result`` is the RunResult.

    One ``ExitStack`` owns the run's lifecycle: the log handler and the history writer live
    until the results are stored; inside, the target, its clients and the nemeses are torn
    down in reverse order of set-up (faults first), also after errors and interrupts.
    SIGINT, SIGTERM and SIGHUP end it as interrupted (``harness.signals``); a signal during
    teardown is noted and does not cut it short."""
    with signals.interrupts():
        return _run(spec, on_start)


def _run(spec: TestSpec, on_start: Callable[[Path], None] | None) -> RunResult:
    if spec.seed is None:
        spec.seed = random.SystemRandom().randrange(2**31)
    parts = prepare(spec)
    target, workload = parts.target, parts.workload
    spec.check_outputs()
    store_dir = Path(spec.store)
    run_dir = store.new_run_dir(store_dir, spec.run_name)
    with contextlib.ExitStack() as lifecycle:
        lifecycle.enter_context(_run_log(run_dir))
        identity = claim_identity(f"{spec.seed}-{run_dir.name}")
        lifecycle.callback(identity.release)
        started = datetime.now()
        test_doc = asdict(assemble.described(spec)) | {
            "run_id": run_dir.name,
            "identity": identity.run_id,
            "command": spec.command(),
            "started": started.isoformat(),
        }
        if isinstance(target, Configurable):
            test_doc["target_options"] = {**target.options, **spec.options}
        store.write_json(run_dir / store.TEST, test_doc)
        store.point_latest(store_dir, run_dir)
        if on_start is not None:
            on_start(run_dir)
        clock = Clock()
        ctx = RunContext(
            run_id=identity.run_id,
            run_dir=run_dir,
            seed=spec.seed,
            rng=random.Random(spec.seed),
            log=log,
            options=dict(spec.options),
            workload=assemble.label(spec.workload),
            operations=parts.operations,
            workload_options=parts.workload_options,
            op_timeout=spec.op_timeout,
            concurrency=spec.concurrency,
        )
        writer = lifecycle.enter_context(HistoryWriter(run_dir / store.HISTORY))
        interrupted: str | None = None
        failure: BaseException | None = None
        teardown_errors: list[str] = []
        live = contextlib.ExitStack()
        try:
            runtime = _set_up(
                target, ctx, writer, Recorder(writer, clock), run_dir, live, teardown_errors
            )
            interpret(spec, workload, runtime, parts.nemeses)
        except KeyboardInterrupt as e:
            interrupted = signals.signal_name(e)
            log.warning("%s: tearing down, then checking the history recorded so far", interrupted)
        except HarnessInputError:
            raise
        except BaseException as e:
            failure = e
            log.error("run failed: %s", "".join(traceback.format_exception(e)))
        finally:
            with signals.deferred() as late:
                live.close()
                writer.close()
            if late and interrupted is None:
                interrupted = signal.Signals(late[0]).name
        if failure is not None:
            raise failure
        history = writer.snapshot()
        try:
            results = check_history(history, workload.checkers)
            add_spectrum(results, history, workload, spec.check_timeout)
        except KeyboardInterrupt as e:
            interrupted = interrupted or signals.signal_name(e)
            results = {
                "valid": "unknown",
                "checkers": {"stats": stats.check(history)},
                "error": CHECK_INTERRUPTED,
            }
        if isinstance(target, ContributesResults):
            add_results(results, target)
        if interrupted:
            results["interrupted"] = interrupted
        results["cap"] = cap_profile(history, results)
        with signals.deferred():
            test_doc["duration_s"] = round((datetime.now() - started).total_seconds(), 3)
            store_errors = _store_outputs(store_dir, run_dir, writer, test_doc, results, history)
    result = RunResult(
        results["valid"],
        run_dir,
        results,
        history,
        spec,
        interrupted is not None,
        teardown_errors,
        store_errors,
    )
    failures = run_failures(results)  # any makes the run a harness failure (255)
    if failures:
        raise failed_run(result, failures)
    return result


def _store_outputs(
    store_dir: Path,
    run_dir: Path,
    writer: HistoryWriter,
    test_doc: dict[str, Any],
    results: dict[str, Any],
    history: Sequence[Op],
) -> list[str]:
    """Save test.json, results.json and report.html, and compress a big history; a full or
    unwritable store is reported in one line saying what was kept (the history that fit is
    already in history.jsonl)."""
    error = writer.write_error
    lost = (
        [] if error is None else [f"{store.HISTORY} holds {writer.written} of {len(history)} ops"]
    )
    unsaved = []
    for name, data in ((store.TEST, test_doc), (store.RESULTS, results)):
        try:
            store.write_json(run_dir / name, data)
        except OSError as e:
            error = error or e
            unsaved.append(name)
    if error is None:
        try:
            store.compress_history(run_dir)
        except OSError as e:
            log.warning("history.jsonl kept uncompressed: %s", e)
        _write_report(run_dir, history)
        return []
    if unsaved:
        lost.append(f"{', '.join(unsaved)} not saved")
    return [f"{store.disk_problem(store_dir, run_dir, error)}: {'; '.join(lost)}"]


def _set_up(
    target: Target,
    ctx: RunContext,
    writer: HistoryWriter,
    recorder: Recorder,
    run_dir: Path,
    live: contextlib.ExitStack,
    errors: list[str],
) -> Runtime:
    """Set the target up and pick its runtime, each undo step pushed on ``live`` first."""
    live.callback(_undo, errors, "target teardown", target.teardown)
    if isinstance(target, HasLogs):
        live.callback(
            _quietly, "collecting logs", lambda: target.collect_logs(run_dir / store.LOGS_DIR)
        )
    log.info("setting up target %s", target.name)
    target.setup(ctx)
    if isinstance(target, OwnsTime):
        return target.runtime(ctx, writer)
    runtime = ThreadRuntime(target, ctx, recorder)
    live.callback(_tear_down_nemeses, runtime.live, errors)
    live.callback(runtime.close)
    return runtime


def _tear_down_nemeses(live: list[Nemesis], errors: list[str]) -> None:
    """Undo faults in reverse order of set-up; every one runs even if an earlier one failed."""
    for nem in reversed(live):
        _undo(errors, f"nemesis {nem.name} teardown", nem.teardown)


def _undo(errors: list[str], what: str, fn: Callable[[], None]) -> None:
    """One teardown step; a failure is noted in ``errors``, saying what it left."""
    error = _quietly(what, fn)
    if error is not None:
        errors.append(error)


def _quietly(what: str, fn: Callable[[], None]) -> str | None:
    try:
        fn()
    except KeyboardInterrupt:
        log.error("%s interrupted; run `splitbrain cleanup` if anything is left", what)
        return f"{what} interrupted; run `splitbrain cleanup` if anything is left"
    except Exception as e:
        log.error("%s failed: %s", what, "".join(traceback.format_exception(e)))
        return f"{what} failed: {e}"
    return None


def _write_report(run_dir: Path, history: Sequence[Op]) -> None:
    try:
        report.write_report(run_dir, ops=list(history))
    except Exception as e:
        log.error("writing report.html failed: %s", "".join(traceback.format_exception(e)))
