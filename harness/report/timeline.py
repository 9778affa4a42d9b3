"""Compact JSON for the canvas timeline: ops per lane, delta-coded in microseconds."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from splitbrain.harness.report.run import FaultWindow, OpSpan, RunData

MAX_PROCESS_LANES = 64
VALUE_LIMIT = 300
OUTCOME_CODE = {"ok": 0, "fail": 1, "info": 2}
NEVER_COMPLETED = 3


def timeline_data(run: RunData, fs: list[str]) -> dict[str, Any]:
    """Per lane, columns: t (start, delta from the lane's previous start), d (duration, -1 never
    completed), o (outcome + 4 * f index), i (history index, delta), p (process, when a lane
    holds several), k (key), x (0, or a map of v value, r result, e error, n node index)."""
    lane_names, lane_of = _lanes(run.spans, run.test.get("concurrency"))
    f_index = {f: i for i, f in enumerate(fs)}
    nodes: dict[Any, int] = {}
    lanes = [Lane() for _ in lane_names]
    for s in sorted(run.spans, key=lambda s: s.start):
        lanes[lane_of(s.process)].add(s, f_index[s.f], nodes)
    shared = len(lane_names) < len({s.process for s in run.spans})
    return {
        "end": run.end_time // 1000,
        "fs": fs,
        "nodes": [_compact(n) for n in nodes],
        "lanes": lane_names,
        "ops": [lane.columns(with_process=shared) for lane in lanes],
        "faults": [_fault_row(w) for w in run.faults],
        "nemesis": _nemesis_rows(run),
    }


@dataclass
class Lane:
    t: list[int] = field(default_factory=list)
    d: list[int] = field(default_factory=list)
    o: list[int] = field(default_factory=list)
    i: list[int] = field(default_factory=list)
    p: list[Any] = field(default_factory=list)
    k: list[Any] = field(default_factory=list)
    x: list[Any] = field(default_factory=list)
    last_start: int = 0
    last_index: int = 0

    def add(self, s: OpSpan, fi: int, nodes: dict[Any, int]) -> None:
        t0 = s.start // 1000
        self.t.append(t0 - self.last_start)
        self.last_start = t0
        if s.end is None:
            self.d.append(-1)
            self.o.append(NEVER_COMPLETED + 4 * fi)
        else:
            self.d.append(max(s.end // 1000 - t0, 0))
            self.o.append(OUTCOME_CODE.get(s.outcome, 2) + 4 * fi)
        self.i.append(s.invoke.index - self.last_index)
        self.last_index = s.invoke.index
        self.p.append(s.process)
        self.k.append(_compact(s.invoke.key))
        self.x.append(_detail(s, nodes) or 0)

    def columns(self, with_process: bool) -> dict[str, list[Any]]:
        cols = {"t": self.t, "d": self.d, "o": self.o, "i": self.i, "k": self.k, "x": self.x}
        if with_process:
            cols["p"] = self.p
        else:
            cols["p"] = self.p[:1]
        return cols


def _detail(s: OpSpan, nodes: dict[Any, int]) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    inv, done = s.invoke, s.complete
    if inv.value is not None:
        detail["v"] = _compact(inv.value)
    if done is not None:
        if done.value != inv.value:
            detail["r"] = _compact(done.value)
        if done.error is not None:
            detail["e"] = _compact(done.error)
        if done.node is not None:
            key = done.node if isinstance(done.node, (str, int)) else str(done.node)
            detail["n"] = nodes.setdefault(key, len(nodes))
    return detail


def _lanes(spans: list[OpSpan], concurrency: Any) -> tuple[list[str], Any]:
    """One lane per process; with many (crashed processes get new numbers) one per worker."""
    procs = sorted({s.process for s in spans}, key=_proc_key)
    if len(procs) <= MAX_PROCESS_LANES:
        index = {p: i for i, p in enumerate(procs)}
        return [f"p{p}" for p in procs], lambda p: index[p]
    workers = (
        concurrency
        if isinstance(concurrency, int) and 0 < concurrency <= MAX_PROCESS_LANES
        else MAX_PROCESS_LANES
    )
    names = [f"worker {w} (p≡{w} mod {workers})" for w in range(workers)]
    return names, lambda p: (p if isinstance(p, int) else zlib.crc32(str(p).encode())) % workers


def _proc_key(p: Any) -> tuple[int, Any]:
    return (0, p) if isinstance(p, int) else (1, str(p))


def _compact(value: Any) -> Any:
    """Values as they are, unless long: then a cut string, so one huge value cannot bloat the page."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return value if len(value) <= VALUE_LIMIT else value[:VALUE_LIMIT] + "…"
    if isinstance(value, list) and len(value) <= 8 and all(_small_scalar(v) for v in value):
        return value
    text = json.dumps(value, default=str, separators=(",", ":"))
    return value if len(text) <= VALUE_LIMIT else text[:VALUE_LIMIT] + "…"


def _small_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (bool, int, float)) or (isinstance(v, str) and len(v) <= 20)


def _fault_row(w: FaultWindow) -> list[Any]:
    return [w.start // 1000, w.end // 1000, w.name, _compact(w.detail), w.open_ended]


def _nemesis_rows(run: RunData) -> list[list[Any]]:
    rows: list[list[Any]] = []
    pending: dict[Any, Any] = {}
    for op in run.nemesis_ops:
        if op.type == "invoke":
            pending[op.process] = op
            continue
        inv = pending.pop(op.process, None)
        if inv is None:
            continue
        rows.append(
            [(inv.time or 0) // 1000, (op.time or 0) // 1000, inv.f, op.type, _compact(op.value)]
        )
    for inv in pending.values():
        rows.append(
            [(inv.time or 0) // 1000, run.end_time // 1000, inv.f, "invoke", _compact(inv.value)]
        )
    return rows
