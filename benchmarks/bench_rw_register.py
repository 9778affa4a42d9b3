"""Times the rw-register checker on a generated strictly serializable history.

Usage: python benchmarks/bench_rw_register.py [--txns N] [--runs R]. Prints the median
transactions checked per second (wall clock, and CPU time) for each claim; goal >= 20,000
txn/s on a 20,000-txn history.
"""

from __future__ import annotations

import argparse
import statistics
import time

from splitbrain.checkers.txn import rw_register
from splitbrain.checkers.txn.synth import serializable_history

CLAIMS: list[tuple[list[str], list[str]]] = [
    (["strict-serializable"], []),
    (["serializable"], []),
    (["strict-serializable"], ["linearizable-keys", "sequential-keys", "wfr-keys"]),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--txns", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    history = serializable_history(args.txns, seed=42, concurrency=10, data_type="rw-register")
    for models, assume in CLAIMS:
        wall, cpu = [], []
        result: dict = {}
        for _ in range(args.runs):
            t0, c0 = time.perf_counter(), time.process_time()
            result = rw_register.check(history, consistency_models=models, assume=assume)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        median, median_cpu = statistics.median(wall), statistics.median(cpu)
        print(
            f"rw-register, generated {args.txns} txns, {', '.join(models)}"
            f"{' assuming ' + ', '.join(assume) if assume else ''}: median {median:.2f} s, "
            f"{args.txns / median:,.0f} txn/s ({args.txns / median_cpu:,.0f} txn/s of CPU "
            f"time, steadier on a shared machine), valid={result['valid']} "
            f"anomalies={result['anomaly_types']}"
        )


if __name__ == "__main__":
    main()
