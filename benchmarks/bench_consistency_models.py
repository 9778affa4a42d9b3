"""Benchmark of the single-object consistency checkers (sequential, the session guarantees,
causal): prints the median of several runs for each case, and each verdict.

    python benchmarks/bench_consistency_models.py [--runs 3] [--shared ../shared/histories]

Cases: generated register histories with unique values (bench_linearizable's seeded
generator: a linearizable run, and the same with one late stale read), of 2,000 ops with 5
processes on one key and 20,000 ops with 20 processes on 10 keys; the sequential search
alone (``shortcuts=False``) on the small ones; and every cas-register history of the
shared porcupine/Knossos fixtures (sequential with a 5 s timeout each, its verdicts counted).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_linearizable import generate_register_history  # noqa: E402

from splitbrain.checkers import causal, sequential, session  # noqa: E402
from splitbrain.checkers.models import ModelInputError  # noqa: E402
from splitbrain.harness.base.history import Op, read_history  # noqa: E402


def timed(fn: Callable[[], dict[str, Any]], runs: int) -> tuple[float, Any]:
    times = []
    valid: Any = None
    for _ in range(runs):
        t = time.perf_counter()
        valid = fn()["valid"]
        times.append(time.perf_counter() - t)
    return statistics.median(times), valid


def checkers(h: list[Op], search_alone: bool) -> dict[str, Callable[[], dict[str, Any]]]:
    out: dict[str, Callable[[], dict[str, Any]]] = {
        "sequential": lambda: sequential.check(h, "cas-register", timeout=60),
    }
    if search_alone:
        out["sequential (search alone)"] = lambda: sequential.check(
            h, "cas-register", timeout=60, shortcuts=False
        )
    for g in session.GUARANTEES:
        out[g] = lambda g=g: session.check(h, g)
    out["causal"] = lambda: causal.check(h)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--shared", default=str(Path(__file__).resolve().parents[2] / "shared" / "histories")
    )
    args = ap.parse_args()
    cases = [
        ("2,000 ops, 5 processes, 1 key", dict(n_ops=2000, processes=5, keys=1), True),
        (
            "2,000 ops, 5 processes, 1 key, one stale read",
            dict(n_ops=2000, processes=5, keys=1, stale_read_at=0.8),
            True,
        ),
        ("20,000 ops, 20 processes, 10 keys", dict(n_ops=20000, processes=20, keys=10), False),
        (
            "20,000 ops, 20 processes, 10 keys, one stale read",
            dict(n_ops=20000, processes=20, keys=10, stale_read_at=0.8),
            False,
        ),
    ]
    for name, params, alone in cases:
        h = generate_register_history(**params)
        for checker, fn in checkers(h, alone).items():
            median, valid = timed(fn, args.runs)
            print(f"{name:52} {checker:28} {median:8.3f} s  valid={valid}")
    shared = Path(args.shared)
    if (shared / "verdicts.json").is_file():
        verdicts = json.loads((shared / "verdicts.json").read_text())["cases"]
        counts: Counter[tuple[Any, Any]] = Counter()
        total = 0.0
        for case in verdicts:
            if case["model"] != "cas-register":
                continue
            ops = read_history(shared / case["file"]).ops
            t = time.perf_counter()
            r = sequential.check(ops, "cas-register", init=case.get("init"), timeout=5)
            total += time.perf_counter() - t
            counts[(case["expected"], r["valid"])] += 1
            try:
                causal.check(ops, init=case.get("init"))
            except ModelInputError:
                counts[("causal", "refused: repeated values")] += 1
        print(f"shared cas-register fixtures: sequential in {total:.1f} s in all")
        for (expected, got), n in sorted(counts.items(), key=str):
            print(f"  linearizable={expected!s:6} sequential={got!s:8} {n}")


if __name__ == "__main__":
    main()
