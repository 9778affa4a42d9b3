"""Load one run directory into the records the report draws: op pairs, fault windows, counts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from splitbrain.harness.base import store
from splitbrain.harness.base.faults import FaultWindow, fault_windows
from splitbrain.harness.base.history import HistoryError, Op, pairs, read_history
from splitbrain.harness.base.protocols import HarnessInputError

RUN_FILES = (*store.HISTORIES, store.RESULTS, store.TEST)


@dataclass(slots=True)
class OpSpan:
    """A client op from invoke to completion; ``end`` is None when it never completed."""

    process: int | str
    f: str
    outcome: str
    start: int
    end: int | None
    invoke: Op
    complete: Op | None


@dataclass
class RunData:
    run_dir: Path
    test: dict[str, Any]
    results: dict[str, Any] | None
    spans: list[OpSpan]
    nemesis_ops: list[Op]
    faults: list[FaultWindow]
    end_time: int
    op_count: int
    problems: list[str] = field(default_factory=list)
    node_logs: list[Path] = field(default_factory=list)


def load_run(run_dir: Path, ops: list[Op] | None = None) -> RunData:
    """Read a run directory; raises HarnessInputError if it is not one.

    ``ops``: the history already in memory (the engine has it), to skip re-reading history.jsonl.
    """
    run_dir = Path(run_dir).resolve()
    if not run_dir.is_dir():
        raise HarnessInputError(f"{run_dir}: not a run directory (no such directory)")
    if not any((run_dir / name).is_file() for name in RUN_FILES):
        raise HarnessInputError(f"{run_dir}: not a run directory (none of {', '.join(RUN_FILES)})")
    problems: list[str] = []
    test = _read_json(run_dir / "test.json", problems)
    results = _read_json(run_dir / "results.json", problems)
    if ops is None:
        ops = _read_ops(store.history_path(run_dir), problems)
    else:
        _fill_times(ops)
    return run_data(
        run_dir,
        ops,
        test=test if isinstance(test, dict) else {},
        results=results if isinstance(results, dict) else None,
        problems=problems,
    )


def run_data(
    where: Path,
    ops: list[Op],
    *,
    test: dict[str, Any] | None = None,
    results: dict[str, Any] | None = None,
    problems: list[str] | None = None,
) -> RunData:
    """The records a report draws, from ops in memory (a run's, or a history from elsewhere)."""
    _fill_times(ops)
    end_time = _end_time(ops)
    nemesis_ops = [op for op in ops if not op.is_client]
    logs = where / "logs"
    return RunData(
        run_dir=where,
        test=test or {},
        results=results,
        spans=_spans(ops),
        nemesis_ops=nemesis_ops,
        faults=fault_windows(ops, end_time),
        end_time=end_time,
        op_count=len(ops),
        problems=problems or [],
        node_logs=sorted(logs.glob("*/*.log")) if logs.is_dir() else [],
    )


def _read_json(path: Path, problems: list[str]) -> Any:
    if not path.is_file():
        problems.append(f"{path.name} is missing")
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        problems.append(f"{path.name} cannot be read: {e}")
        return None


def _read_ops(path: Path, problems: list[str]) -> list[Op]:
    if not path.is_file():
        problems.append(f"{path.name} is missing")
        return []
    try:
        loaded = read_history(path, "jsonl")
    except HistoryError as e:
        problems.append(str(e))
        return []
    problems.extend(loaded.warnings)
    _fill_times(loaded.ops)
    return loaded.ops


def _fill_times(ops: list[Op]) -> None:
    """Ops without a time (foreign histories) get their predecessor's, so they can be drawn."""
    last = 0
    for op in ops:
        if op.time is None:
            op.time = last
        last = op.time


def _end_time(ops: list[Op]) -> int:
    return max((op.time or 0 for op in ops), default=0)


def _spans(ops: list[Op]) -> list[OpSpan]:
    out: list[OpSpan] = []
    for p in pairs(ops):
        c = p.complete
        out.append(
            OpSpan(
                process=p.invoke.process,
                f=p.invoke.f,
                outcome=p.outcome,
                start=p.invoke.time or 0,
                end=c.time if c is not None else None,
                invoke=p.invoke,
                complete=c,
            )
        )
    return out
