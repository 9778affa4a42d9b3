"""Check stored histories against a named consistency model (``splitbrain check``)."""

from __future__ import annotations

import inspect
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from splitbrain.checkers import linearizable, transactional
from splitbrain.checkers.txn.models import FRIENDLY_MODEL_NAMES
from splitbrain.harness import assemble, plugins, store
from splitbrain.harness.history import (
    BadOp,
    HistoryError,
    LoadedHistory,
    Op,
    Valid,
    gc_paused,
    parse_history,
    read_history,
)
from splitbrain.harness.independent import apply as apply_independent
from splitbrain.harness.protocols import HarnessInputError
from splitbrain.harness.verdict import Verdict

CheckFn = Callable[[list[Op], Any, float | None], dict[str, Any]]


def _linearizable(model: Any) -> CheckFn:
    def check(history: list[Op], init: Any, timeout: float | None) -> dict[str, Any]:
        return linearizable.check(history, assemble.model(model, init), timeout=timeout)

    return check


def _checker(checker: Any, **fixed: Any) -> CheckFn:
    def check(history: list[Op], init: Any, timeout: float | None) -> dict[str, Any]:
        return checker(history, **fixed)

    return check


def models() -> list[str]:
    """Every name ``splitbrain check --model`` accepts besides ``module:attr`` paths: the
    registered models and checkers, and Elle's consistency models (list-append histories)."""
    return sorted({*plugins.names("model"), *plugins.names("checker"), *FRIENDLY_MODEL_NAMES})


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


def resolve_model(model: Any, assume: Iterable[str] = ()) -> CheckFn:
    """What checks a history for ``--model``: a model (name, path or object) is checked for
    linearizability; a registered checker's name runs that checker; an Elle consistency
    model's name runs Elle's list-append or rw-register checker for it, as the history's
    micro-ops say. ``assume`` (the properties of the keys the user asserts) goes to a
    checker that takes it (rw-register's); for any other it is bad input."""
    assumed = list(assume)
    if isinstance(model, str) and model in FRIENDLY_MODEL_NAMES:
        return _checker(transactional.check, consistency_models=[model], assume=assumed)
    checker = (
        plugins.load("checker", model)
        if isinstance(model, str)
        and model not in plugins.entries("model")
        and model in plugins.entries("checker")
        else None
    )
    if assumed and (checker is None or "assume" not in inspect.signature(checker).parameters):
        raise HarnessInputError(
            f"--assume is for rw-register histories (an Elle consistency model or the "
            f"rw-register checker), not {assemble.label(model)!r}"
        )
    if checker is not None:
        return _checker(checker, **({"assume": assumed} if assumed else {}))
    if not isinstance(model, str) or plugins.is_path(model):
        assemble.model(model)
        return _linearizable(model)
    if model in plugins.entries("model"):
        return _linearizable(model)
    raise HarnessInputError(f"unknown model {model!r}; known: {', '.join(models())}")


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
    before it resumes: a collection while the ops are alive would walk every one of them
    (a few tenths of a second for 200,000 ops), and they hold no cycles."""
    with gc_paused():
        return _check_file(path, check, init, fmt, timeout, independent)


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
    model: Any,
    *,
    init: Any = None,
    timeout: float | None = None,
    assume: Iterable[str] = (),
) -> CheckResult:
    """Check a history (ops, or a file: JSON lines, EDN or a Jepsen log) against ``model``:
    a registered name, a ``module:attr`` path, or a model object (``Model``; its states need
    not be hashable); ``assume`` as ``resolve_model``'s. Raises HarnessInputError for a bad
    model or file."""
    checker = resolve_model(model, assume)
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
