"""Times the list-append checker: a generated serializable history of 100,000 transactions, and Elle's huge-scc.edn.

Usage: python benchmarks/bench_elle.py [--txns N] [--runs R]. Prints medians; goal >= 20,000 txn/s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from splitbrain.checkers import elle
from splitbrain.checkers.txn.synth import serializable_history
from splitbrain.harness.base.history import read_history

HUGE_SCC = Path(__file__).resolve().parents[2] / "shared" / "histories" / "elle" / "huge-scc.edn"


def _time(fn, runs: int) -> tuple[float, dict]:  # noqa: ANN001
    times = []
    result: dict = {}
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--txns", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    history = serializable_history(args.txns, seed=42, concurrency=10)
    for models in (["strict-serializable"], ["serializable"]):
        median, r = _time(lambda m=models: elle.check(history, consistency_models=m), args.runs)
        print(
            f"generated {args.txns} txns, {', '.join(models)}: median {median:.2f} s, "
            f"{args.txns / median:,.0f} txn/s, valid={r['valid']} anomalies={r['anomaly_types']}"
        )
    if HUGE_SCC.exists():
        ops = read_history(HUGE_SCC).ops
        n = sum(1 for op in ops if op.type != "invoke")
        median, r = _time(lambda: elle.check(ops), args.runs)
        print(
            f"huge-scc.edn ({n} txns): median {median:.2f} s, {n / median:,.0f} txn/s, valid={r['valid']} "
            f"anomalies={r['anomaly_types']} not={r['not']}"
        )


if __name__ == "__main__":
    main()
