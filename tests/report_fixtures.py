"""Synthetic run directories for the report tests and benchmark (no engine needed)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conftest import shared_histories
from splitbrain.checkers import elle
from splitbrain.harness.base.history import HistoryWriter, Op, read_history

EVIL = "<script>alert(1)</script>"


@dataclass
class RunSpec:
    name: str = "register-memory"
    stamp: str = "20240101T120000.000"
    ops: int = 400
    concurrency: int = 5
    seed: int = 7
    valid: Any = True
    key: Any = "k1"
    faults: bool = True
    counterexample: bool = False
    anomalies: bool = False
    extra_checkers: dict[str, Any] = field(default_factory=dict)


def write_skew(key: Any) -> list[Op]:
    """Two transactions that each read what the other appends to: a G2-item cycle on ``key`` and "y"."""
    t1 = [["r", "y", None], ["append", key, 1]]
    t2 = [["r", key, None], ["append", "y", 1]]
    ops = [
        Op("invoke", "txn", 0, t1),
        Op("invoke", "txn", 1, t2),
        Op("ok", "txn", 0, [["r", "y", []], ["append", key, 1]]),
        Op("ok", "txn", 1, [["r", key, []], ["append", "y", 1]]),
        Op("invoke", "txn", 0, [["r", key, None], ["r", "y", None]]),
        Op("ok", "txn", 0, [["r", key, [1]], ["r", "y", [1]]]),
    ]
    for i, op in enumerate(ops):
        op.index = i
    return ops


def make_run(store: Path, spec: RunSpec) -> Path:
    """Write STORE/NAME/STAMP with history, results, test spec, logs; point STORE/latest at it."""
    run_dir = store / spec.name / spec.stamp
    (run_dir / "logs" / "n1").mkdir(parents=True)
    duration_ns = _write_history(run_dir / "history.jsonl", spec)
    (run_dir / "results.json").write_text(json.dumps(_results(spec)))
    (run_dir / "test.json").write_text(json.dumps(_test(spec, duration_ns)))
    (run_dir / "splitbrain.log").write_text("INFO run started\n")
    (run_dir / "logs" / "n1" / "server.log").write_text(f"node log with {EVIL}\n")
    latest = store / "latest"
    if latest.is_symlink():
        latest.unlink()
    latest.symlink_to(run_dir.relative_to(store))
    return run_dir


def _write_history(path: Path, spec: RunSpec) -> int:
    rng = random.Random(spec.seed)
    now = [0] * spec.concurrency
    process = list(range(spec.concurrency))
    events: list[tuple[int, int, Op]] = []
    for i in range(spec.ops // 2):
        w = i % spec.concurrency
        start = now[w] + rng.randint(10_000, 200_000)
        end = start + rng.randint(50_000, 3_000_000)
        now[w] = end
        f = rng.choice(["read", "write", "cas"])
        value = (
            None
            if f == "read"
            else (rng.randint(0, 5) if f == "write" else [rng.randint(0, 5), rng.randint(0, 5)])
        )
        outcome = rng.choices(["ok", "fail", "info"], weights=[90, 7, 3])[0]
        if f == "read" and outcome == "fail":
            outcome = "ok"
        key = spec.key if i % 3 == 0 else f"k{i % 4}"
        p = process[w]
        result = rng.randint(0, 5) if f == "read" and outcome == "ok" else value
        error = "timeout" if outcome == "info" else ("cas mismatch" if outcome == "fail" else None)
        events.append(
            (start, 0, Op(type="invoke", f=f, process=p, value=value, key=key, time=start))
        )
        events.append(
            (
                end,
                1,
                Op(
                    type=outcome,
                    f=f,
                    process=p,
                    value=result,
                    key=key,
                    time=end,
                    node="n1",
                    error=error,
                ),
            )
        )
        if outcome == "info":
            process[w] += spec.concurrency
    end_ns = max(now) + 1_000_000
    if spec.faults:
        events.extend(_nemesis_events(end_ns))
    events.sort(key=lambda e: (e[0], e[1]))
    with HistoryWriter(path) as writer:
        for _, _, op in events:
            writer.append(op)
    return end_ns


def _nemesis_events(end_ns: int) -> list[tuple[int, int, Op]]:
    def nem(t: int, typ: str, f: str, value: Any) -> tuple[int, int, Op]:
        return (t, 2, Op(type=typ, f=f, process="nemesis", value=value, time=t))

    a, b, c = end_ns // 5, end_ns // 2, end_ns * 3 // 4
    return [
        nem(a, "invoke", "start-partition", "halves"),
        nem(a + 1000, "info", "start-partition", {"grudge": {"n1": ["n2", "n3"], EVIL: ["n1"]}}),
        nem(b, "invoke", "stop-partition", None),
        nem(b + 1000, "info", "stop-partition", "healed"),
        nem(c, "invoke", "kill", ["n2"]),
        nem(c + 1000, "info", "kill", {"n2": "killed"}),
    ]


def _opdesc(
    process: int, f: str, value: Any, result: Any, inv: int, comp: int | None
) -> dict[str, Any]:
    return {
        "process": process,
        "f": f,
        "value": value,
        "result": result,
        "type": "ok",
        "invoke_index": inv,
        "complete_index": comp,
    }


def _results(spec: RunSpec) -> dict[str, Any]:
    checkers: dict[str, Any] = {
        "stats": {
            "valid": True,
            "by-f": {
                "read": {"ok": 10, "fail": 0, "info": 1},
                "write": {"ok": 8, "fail": 2, "info": 0},
            },
        },
        "linearizable": {"valid": spec.valid, "model": "cas-register", "analyzer": "wgl"},
    }
    if spec.counterexample:
        checkers["linearizable"]["counterexample"] = {
            "key": spec.key,
            "op": _opdesc(3, "read", None, 4, 40, 45),
            "state": 2,
            "linearized": [_opdesc(1, "write", 1, 1, 30, 33), _opdesc(2, "write", 2, 2, 34, 38)],
            "concurrent": [
                _opdesc(4, "cas", [2, 3], [2, 3], 39, 47),
                _opdesc(0, "write", EVIL, EVIL, 41, None),
            ],
            "text": f"read of 4 by p3 on key {spec.key} cannot follow state 2",
        }
    if spec.anomalies:
        checkers["elle"] = elle.check(write_skew(spec.key), consistency_models=["serializable"])
        checkers["elle-si"] = elle.check(
            read_history(shared_histories() / "elle" / "si-without-g-single.edn").ops,
            consistency_models=["serializable"],
        )
    checkers.update(spec.extra_checkers)
    return {"valid": spec.valid, "checkers": checkers}


def _test(spec: RunSpec, duration_ns: int) -> dict[str, Any]:
    return {
        "name": spec.name,
        "run_id": spec.stamp,
        "target": "memory",
        "workload": "register",
        "nemesis": ["partition", "kill"] if spec.faults else [],
        "concurrency": spec.concurrency,
        "time_limit": 10,
        "rate": 0,
        "keys": 4,
        "seed": spec.seed,
        "options": {"fault": "stale-reads", "note": EVIL},
        "command": f"splitbrain test --target memory --workload register --seed {spec.seed}",
        "started": "2024-01-01T12:00:00Z",
        "duration_s": duration_ns / 1e9,
    }
