"""Check stored histories against a named consistency model (``splitbrain check``)."""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from splitbrain.harness import store
from splitbrain.harness.history import (
    HistoryError,
    LoadedHistory,
    Op,
    Valid,
    parse_history,
    read_history,
)
from splitbrain.harness.independent import apply as apply_independent
from splitbrain.harness.protocols import HarnessInputError

CheckFn = Callable[[list[Op], Any, float | None], dict[str, Any]]


def _linearizable(model: str) -> CheckFn:
    def check(history: list[Op], init: Any, timeout: float | None) -> dict[str, Any]:
        from splitbrain.checkers import linearizable

        return linearizable.check(history, model, init=init, timeout=timeout)

    return check


def _module_check(module: str, **fixed: Any) -> CheckFn:
    def check(history: list[Op], init: Any, timeout: float | None) -> dict[str, Any]:
        return importlib.import_module(module).check(history, **fixed)

    return check


def models() -> dict[str, CheckFn]:
    """Every model name ``splitbrain check --model`` accepts."""
    found: dict[str, CheckFn] = {}
    try:
        from splitbrain.checkers import linearizable

        for name in linearizable.MODELS:
            found[name] = _linearizable(name)
    except ImportError:
        pass
    try:
        from splitbrain.checkers.txn.models import FRIENDLY_MODEL_NAMES

        for name in FRIENDLY_MODEL_NAMES:
            found[name] = _module_check("splitbrain.checkers.elle", consistency_models=[name])
        found["list-append"] = _module_check("splitbrain.checkers.elle")
    except ImportError:
        pass
    for name, module in (
        ("set-full", "splitbrain.checkers.set_full"),
        ("counter", "splitbrain.checkers.counter"),
        ("total-queue", "splitbrain.checkers.total_queue"),
    ):
        try:
            importlib.import_module(module)
        except ImportError:
            continue
        found[name] = _module_check(module)
    return found


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


def resolve_model(name: str) -> CheckFn:
    known = models()
    if name not in known:
        raise HarnessInputError(f"unknown model {name!r}; known: {', '.join(sorted(known))}")
    return known[name]


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
    """Read and check one history; bad input comes back as a verdict with ``error``, not an exception."""
    try:
        loaded = _load(path, fmt)
    except HistoryError as e:
        return FileVerdict(str(path), None, error=str(e))
    if not loaded.ops:
        return FileVerdict(
            str(path),
            None,
            error=f"{path}: the history has no operations",
            warnings=loaded.warnings,
        )
    ops, keyed = apply_independent(loaded.ops, independent)
    if keyed and independent == "auto":
        loaded.warnings.append(
            f"{path}: values are Jepsen independent [key value] tuples; checked key by key "
            "(--independent no reads them as plain values)"
        )
    started = time.perf_counter()
    try:
        result = check(ops, init, timeout)
    except ValueError as e:
        return FileVerdict(
            str(path), None, error=f"{path}: {e}", ops=len(loaded.ops), warnings=loaded.warnings
        )
    return FileVerdict(
        str(path),
        result.get("valid", "unknown"),
        result,
        ops=len(loaded.ops),
        seconds=time.perf_counter() - started,
        warnings=loaded.warnings,
    )
