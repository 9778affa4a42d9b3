"""Check stored histories against a named consistency model (``splitbrain check``)."""

from __future__ import annotations

import inspect
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from splitbrain.checkers import hierarchy, linearizable, spectrum, stats, transactional
from splitbrain.harness.base import forked, lifetime, plugins, store
from splitbrain.harness.base.errors import CheckerFailed
from splitbrain.harness.base.history import (
    BadOp,
    HistoryError,
    LoadedHistory,
    Op,
    Valid,
    gc_paused,
    parse_history,
    read_history,
)
from splitbrain.harness.base.independent import apply as apply_independent
from splitbrain.harness.base.protocols import HarnessInputError
from splitbrain.harness.base.verdict import (
    Verdict,
    compose,
    describe,
    is_crashed,
    not_a_result,
    raised,
)
from splitbrain.harness.engine import assemble
from splitbrain.workloads import WorkloadSpec

CheckFn = Callable[[list[Op], Any, float | None], dict[str, Any]]


def _linearizable(model: Any) -> CheckFn:
    def check(history: list[Op], init: Any, timeout: float | None) -> dict[str, Any]:
        return linearizable.check(history, assemble.model(model, init), timeout=timeout)

    return check


def _checker(checker: Any, name: str, **fixed: Any) -> CheckFn:
    """A registered checker; ``init`` and ``timeout`` reach it when it takes them."""
    accepts = _parameters(checker)
    checker = user_checker(checker, name) if plugins.is_path(name) else checker

    def check(history: list[Op], init: Any, timeout: float | None) -> dict[str, Any]:
        extra = {k: v for k, v in (("init", init), ("timeout", timeout)) if k in accepts}
        return checker(history, **fixed, **extra)

    return check


def user_checker(
    checker: Callable[..., dict[str, Any]], name: str
) -> Callable[..., dict[str, Any]]:
    """A checker of the user's own code (given as ``module:attr``, or made by a workload so
    given): what it raises is its failure, ``CheckerFailed`` (255), except ``ValueError``
    and ``BadOp``, its ways to refuse a history (254), and MemoryError (``unknown``); so is
    a return value that is no result."""

    def check(*args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            result = checker(*args, **kwargs)
        except (BadOp, ValueError, MemoryError):
            raise
        except Exception as e:
            raise CheckerFailed({f"checker {name}": describe(e)}) from e
        problem = not_a_result(result)
        if problem:
            raise CheckerFailed({f"checker {name}": problem})
        return result

    return check


def consistency_models() -> list[str]:
    """Every name ``--consistency`` accepts: the hierarchy's models, then Elle's other names."""
    return [*hierarchy.NAMES, *spectrum.ELLE_ONLY]


def models() -> list[str]:
    """Every name ``splitbrain check --model`` accepts besides ``module:attr`` paths: the
    data types (registered models), the registered checkers, and (deprecated there) the
    consistency models."""
    return sorted(
        {*plugins.names("model"), *plugins.names("checker"), *hierarchy.DATA_TYPES}
        | set(consistency_models())
    )


# ---------------------------------------------------------------- what a history is checked for

_SINGLE_FS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"get", "put", "append"}), "kv"),
    (frozenset({"enqueue", "dequeue"}), "queue"),
    (frozenset({"acquire", "release"}), "mutex"),
    (frozenset({"add", "read"}), "set"),
    (frozenset({"read", "write", "cas"}), "cas-register"),
)


def infer_data_type(history: list[Op]) -> str | None:
    """The data type a history's operations belong to, or None when they do not say."""
    fs = {o.f for o in history if o.is_client and o.f not in spectrum.NOT_THE_OBJECT}
    if fs == {"txn"}:
        kinds = {
            getattr(m[0], "name", m[0])
            for o in history
            if o.f == "txn" and isinstance(o.value, list)
            for m in o.value
            if isinstance(m, list | tuple) and m
        }
        if kinds and kinds <= {"read", "write"}:
            return "multi-register"
        return transactional.data_type(history)  # raises BadOp for a mix of the two
    if not fs:
        return None
    for allowed, data_type in _SINGLE_FS:
        if fs <= allowed:
            if data_type == "set" and "add" not in fs:
                continue
            if data_type == "cas-register" and "cas" not in fs:
                return "register"
            return data_type
    return None


def default_consistency(data_type: str) -> str:
    return "strict-serializable" if data_type in hierarchy.TRANSACTIONAL else "linearizable"


@dataclass(frozen=True)
class Selection:
    """What ``splitbrain check`` checks: a data type (None: inferred from each history) and
    the consistency models claimed (none: the data type's default), or one named checker."""

    data_type: Any = None
    consistency: tuple[str, ...] = ()
    checker: str | None = None
    spectrum: bool = False
    assume: tuple[str, ...] = ()
    """What rw-register's checker may rely on (``--assume``)."""


def _is_data_type(name: Any) -> bool:
    return (
        not isinstance(name, str)
        or plugins.is_path(name)
        or name in hierarchy.DATA_TYPES
        or name in plugins.entries("model")
    )


def select(
    model: Any = None,
    *,
    data_type: Any = None,
    consistency: tuple[str, ...] | list[str] = (),
    checker: str | None = None,
    spectrum: bool = False,
    assume: Iterable[str] = (),
    flag: str = "--model",
) -> tuple[Selection, list[str]]:
    """The selection the flags say, and a one-line deprecation notice for each old spelling:
    ``--model`` naming a consistency model (now ``--consistency``) or a checker (``--checker``)."""
    notices: list[str] = []
    consistency = tuple(consistency)
    if model is not None:
        if _is_data_type(model):
            if data_type is not None and data_type != model:
                raise HarnessInputError(f"{flag} {model} and --data-type {data_type} disagree")
            data_type = model
        elif model in consistency_models():
            notices.append(
                f"{flag} {model} is deprecated for a consistency model; use --consistency {model}"
            )
            consistency = (*consistency, model)
        elif model in plugins.entries("checker"):
            notices.append(f"{flag} {model} is deprecated for a checker; use --checker {model}")
            checker = checker or model
        else:
            raise HarnessInputError(f"unknown model {model!r}; known: {', '.join(models())}")
    if data_type is not None and not _is_data_type(data_type):
        raise HarnessInputError(
            f"unknown data type {data_type!r}; known: {', '.join(data_types())}"
        )
    for name in consistency:
        if name not in consistency_models():
            raise HarnessInputError(hierarchy.unknown_model(name, consistency_models()))
    if checker is not None:
        if checker not in plugins.entries("checker") and not plugins.is_path(checker):
            raise HarnessInputError(
                f"unknown checker {checker!r}; known: {', '.join(plugins.names('checker'))}"
            )
        if consistency or spectrum:
            raise HarnessInputError(
                f"--checker {checker} runs that checker alone; it takes no --consistency or --spectrum"
            )
    assumed = tuple(assume)
    if assumed:
        takes = checker is not None and "assume" in _parameters(plugins.load("checker", checker))
        if (checker is not None and not takes) or (
            checker is None and data_type is not None and data_type != transactional.RW_REGISTER
        ):
            raise HarnessInputError(
                f"--assume is for rw-register histories (an Elle consistency model or the "
                f"rw-register checker), not {assemble.label(checker or data_type)!r}"
            )
    return Selection(data_type, consistency, checker, spectrum, assumed), notices


def _parameters(fn: Any) -> set[str]:
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return set()


def data_types() -> list[str]:
    return sorted({*hierarchy.DATA_TYPES, *plugins.names("model")})


def _model_check(model: str, data_type: str) -> CheckFn:
    """One consistency model's checker over ``data_type``; one line (bad input) when it does
    not apply or has no checker yet."""
    try:
        fn = spectrum.checker(model, data_type)
    except hierarchy.NotApplicable as e:
        raise HarnessInputError(str(e)) from None
    if fn is None:
        raise HarnessInputError(
            f"consistency model {model} has no checker for data type {data_type} yet"
        )

    def check(history: list[Op], init: Any, timeout: float | None) -> dict[str, Any]:
        return fn(history, data_type, init, timeout)

    return check


def _custom(data_type: Any) -> bool:
    """A data type the hierarchy does not know (a user's model): linearizability alone applies."""
    return not isinstance(data_type, str) or data_type not in hierarchy.DATA_TYPES


def checks(selection: Selection, data_type: Any) -> dict[str, CheckFn]:
    """The checker of each claimed model for a history of ``data_type``."""
    claimed = selection.consistency or (default_consistency(str(data_type)),)
    if _custom(data_type):
        other = [m for m in claimed if m != "linearizable"]
        if other:
            raise HarnessInputError(
                f"consistency model {other[0]} does not apply to data type "
                f"{assemble.label(data_type)} (a model of its own: only linearizable applies)"
            )
        return {"linearizable": _linearizable(data_type)}
    if selection.assume:
        if data_type != transactional.RW_REGISTER:
            raise ValueError(
                f"--assume {selection.assume[0]} is for rw-register histories; this one is "
                f"{data_type}"
            )
        return {m: _assuming(m, selection.assume) for m in claimed}
    return {m: _model_check(m, data_type) for m in claimed}


def _assuming(model: str, assume: tuple[str, ...]) -> CheckFn:
    _model_check(model, transactional.RW_REGISTER)  # applies, and has a checker

    def check(history: list[Op], init: Any, timeout: float | None) -> dict[str, Any]:
        return transactional.check(history, consistency_models=[model], assume=assume)

    return check


def checker_for(selection: Selection) -> CheckFn:
    """What checks one history for ``selection``: the named checker, or each claimed model
    over the data type (inferred from the history when not given), then the spectrum if asked."""
    if selection.checker is not None:
        fixed = {"assume": list(selection.assume)} if selection.assume else {}
        return _checker(plugins.load("checker", selection.checker), selection.checker, **fixed)
    if selection.data_type is not None:
        if _custom(selection.data_type):
            assemble.model(selection.data_type)
        checks(selection, selection.data_type)  # refused now, not once per file

    def check(history: list[Op], init: Any, timeout: float | None) -> dict[str, Any]:
        data_type = selection.data_type or infer_data_type(history)
        if data_type is None:
            fs = sorted({o.f for o in history if o.is_client})
            raise ValueError(
                f"cannot tell the data type from the operations ({', '.join(fs)}); "
                f"name it with --data-type ({', '.join(data_types())})"
            )
        parts = {m: fn(history, init, timeout) for m, fn in checks(selection, data_type).items()}
        result = dict(next(iter(parts.values()))) if len(parts) == 1 else {"checkers": parts}
        result["valid"] = compose(parts)
        result["data_type"] = assemble.label(data_type)
        result["claimed"] = list(parts)
        if selection.spectrum and not _custom(data_type):
            result["spectrum"] = spectrum.spectrum(
                history,
                data_type,
                init=init,
                timeout=timeout,
                decided={m: (m, p) for m, p in parts.items()},
            )
        return result

    return check


def run_checker(path: str | Path) -> CheckFn | None:
    """The checkers a run directory's own test used (from its ``test.json``), so that
    ``splitbrain check RUN_DIR`` gives the run's verdict (a counter history is not a set),
    ``stats`` included as in the run (valid unless some function never succeeded); None
    when ``path`` is not a run directory with a ``test.json``."""
    test_json = Path(path) / store.TEST
    if str(path) == STDIN or not test_json.is_file():
        return None
    try:
        test = json.loads(test_json.read_text(encoding="utf-8"))
        name = test["workload"]
        wspec = WorkloadSpec(
            keys=int(test.get("keys", 8)),
            concurrency=int(test.get("concurrency", 5)),
            seed=int(test.get("seed") or 0),
            model=test.get("model"),
            consistency=tuple(test.get("consistency") or ()),
            check_timeout=test.get("check_timeout"),
            assume=tuple(test.get("assume") or ()),
            options=dict(test.get("workload_options") or {}),
        )
    except (OSError, ValueError, TypeError, KeyError) as e:
        raise HarnessInputError(f"{test_json}: not a run's test spec ({e})") from None
    made, _ = assemble.claimed_workload(name, wspec)
    checkers = dict(made.checkers)
    if plugins.is_path(name):
        checkers = {n: user_checker(fn, n) for n, fn in checkers.items()}

    def check(history: list[Op], init: Any, timeout: float | None) -> dict[str, Any]:
        parts = {"stats": stats.check(history)}
        parts |= {n: fn(history) for n, fn in checkers.items()}
        result: dict[str, Any] = {"valid": compose(parts), "checkers": parts}
        result["claimed"] = list(parts)
        result["workload"] = assemble.label(name)
        return result

    return check


def resolve_model(model: Any, assume: Iterable[str] = ()) -> CheckFn:
    """What checks a history for ``--model`` (a data type, a checker, or a consistency model),
    without deprecation notices: the library's spelling of ``select`` and ``checker_for``."""
    selection, _ = select(model, assume=assume)
    return checker_for(selection)


@dataclass
class FileVerdict:
    path: str
    valid: Valid | None
    """None when the file could not be checked (bad input)."""
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    ops: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


def _where(path: str | Path, loaded: LoadedHistory, index: int) -> str:
    """``FILE:LINE`` of the op whose ``index`` is given (``FILE`` alone if it is not found)."""
    for position, op in enumerate(loaded.ops):
        if op.index == index and position < len(loaded.lines):
            return f"{path}:{loaded.lines[position]}"
    return str(path)


STDIN = "-"


def _load(path: str | Path, fmt: str) -> LoadedHistory:
    """A history file, a run directory (its history), or ``-`` for standard input."""
    if str(path) == STDIN:
        return parse_history(sys.stdin.buffer.read(), "<stdin>", fmt)
    p = Path(path)
    if p.is_dir():
        history = store.history_path(p)
        if not history.is_file():
            raise HistoryError(p, None, "a directory without history.jsonl: not a run directory")
        return read_history(history, fmt)
    return read_history(p, fmt)


def check_file(
    path: str | Path,
    check: CheckFn,
    *,
    init: Any = None,
    fmt: str = "auto",
    timeout: float | None = None,
    independent: str = "auto",
) -> FileVerdict:
    """Read and check one history; bad input comes back as a verdict with ``error``, not an exception.

    The garbage collector stays paused from reading to the verdict, and the history is freed
    before it resumes (or left to the end of a one-shot process: ``lifetime.keep``): a
    collection while the ops are alive would walk every one of them (a few tenths of a
    second for 200,000 ops), and they hold no cycles."""
    with gc_paused():
        return _check_file(path, check, init, fmt, timeout, independent)


FORK_MIN_BYTES = 256 * 1024
"""Histories of fewer bytes in all are checked one after the other, without a forked helper."""


def check_files(
    paths: list[str | Path],
    checker_of: Callable[[str | Path], CheckFn],
    *,
    init: Any = None,
    fmt: str = "auto",
    timeout: float | None = None,
    independent: str = "auto",
) -> list[FileVerdict]:
    """``check_file`` on each path, in order, with the checker ``checker_of(path)``; when there
    is room, a forked copy of this process checks some of them (``harness.base.forked``).
    Standard input is read here."""

    def one(path: str | Path) -> FileVerdict:
        return check_file(
            path, checker_of(path), init=init, fmt=fmt, timeout=timeout, independent=independent
        )

    if any(str(p) == STDIN for p in paths):
        return [one(p) for p in paths]
    return forked.share(one, paths, [_size(p) for p in paths], FORK_MIN_BYTES)


def _size(path: str | Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _check_file(
    path: str | Path, check: CheckFn, init: Any, fmt: str, timeout: float | None, independent: str
) -> FileVerdict:
    try:
        loaded = _load(path, fmt)
    except HistoryError as e:
        return FileVerdict(str(path), None, error=str(e))
    if not loaded.ops:
        error = f"{path}: the history has no operations"
        if loaded.warnings:
            error = (
                f"{loaded.warnings[0].removesuffix('; ignored')}, and there are no other operations"
            )
        return FileVerdict(str(path), None, error=error, warnings=loaded.warnings)
    ops, keyed = apply_independent(loaded.ops, independent)
    if keyed and independent == "auto":
        loaded.warnings.append(
            f"{path}: values are Jepsen independent [key value] tuples; checked key by key "
            "(--independent no reads them as plain values)"
        )
    lifetime.keep((loaded, ops), len(ops))
    started = time.perf_counter()
    try:
        result = check(ops, init, timeout)
    except BadOp as e:
        error = f"{_where(path, loaded, e.index)}: {e.message}"
        return FileVerdict(
            str(path), None, error=error, ops=len(loaded.ops), warnings=loaded.warnings
        )
    except ValueError as e:
        return FileVerdict(str(path), None, error=f"{path}: {e}", ops=len(loaded.ops))
    except (TypeError, KeyError, IndexError, AttributeError, RecursionError) as e:
        # Whatever the readers let through and a checker cannot take is still bad input.
        error = f"{path}: cannot be checked as this model ({type(e).__name__}: {str(e)[:200]})"
        return FileVerdict(
            str(path), None, error=error, ops=len(loaded.ops), warnings=loaded.warnings
        )
    except CheckerFailed as e:  # a user's --checker module:attr that raised
        raise CheckerFailed(e.failures, f"while checking {path}") from e
    except Exception as e:  # anything else is the checker's failure (out of memory: unknown)
        part = raised(e)
        if is_crashed(part):
            raise CheckerFailed({"checking": describe(e)}, f"while checking {path}") from e
        return FileVerdict(str(path), part["valid"], part, ops=len(loaded.ops))
    return FileVerdict(
        str(path),
        result.get("valid", "unknown"),
        result,
        ops=len(loaded.ops),
        seconds=time.perf_counter() - started,
        warnings=loaded.warnings,
    )


@dataclass(frozen=True)
class CheckResult:
    """What ``check`` returns: the verdict and the checker's whole result."""

    valid: Valid
    result: dict[str, Any]
    ops: int

    @property
    def verdict(self) -> Verdict:
        return Verdict.of(self.valid)


def check(
    history: list[Op] | str | Path,
    model: Any = None,
    *,
    init: Any = None,
    timeout: float | None = None,
    data_type: Any = None,
    consistency: tuple[str, ...] | list[str] = (),
    spectrum: bool = False,
    assume: Iterable[str] = (),
) -> CheckResult:
    """Check a history (ops, or a file: JSON lines, EDN or a Jepsen log) for ``consistency``
    (models of ``checkers.hierarchy``; default the data type's strongest checked one) over
    ``data_type`` (inferred from the history when not given): a registered name, a
    ``module:attr`` path, or a model object (``Model``; its states need not be hashable).
    ``model`` is the older spelling: a data type, a checker or a consistency model.
    ``spectrum`` adds every applicable model's verdict under ``result["spectrum"]``;
    ``assume``: what rw-register's checker may rely on (``--assume``).
    Raises HarnessInputError for a bad model or file."""
    selection, _ = select(
        model, data_type=data_type, consistency=consistency, spectrum=spectrum, assume=assume
    )
    checker = checker_for(selection)
    if isinstance(history, str | Path):
        verdict = check_file(history, checker, init=init, timeout=timeout)
        if verdict.valid is None:
            raise HarnessInputError(verdict.error or f"{history}: cannot be checked")
        return CheckResult(verdict.valid, verdict.result, verdict.ops)
    ops = list(history)
    try:
        result = checker(ops, init, timeout)
    except ValueError as e:
        raise HarnessInputError(str(e)) from None
    return CheckResult(result.get("valid", "unknown"), result, len(ops))
