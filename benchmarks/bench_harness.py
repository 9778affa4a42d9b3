"""Ops/s the harness records against ``memory`` at concurrency 10, against a bare loop.

The bare loop is 10 threads calling the same store directly with the same mix of reads,
writes and CAS, with no generator, no history and no checker. The harness with a single
worker is printed too: with the GIL, 10 workers can at best match it. Prints medians of
RUNS runs.

    python benchmarks/bench_harness.py [--seconds 3] [--runs 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time

from splitbrain.harness.engine import core
from splitbrain.targets.memory import MemoryStore

CONCURRENCY = 10


def harness_ops_per_second(seconds: float, seed: int, concurrency: int = CONCURRENCY) -> float:
    with tempfile.TemporaryDirectory() as store:
        spec = core.TestSpec(
            concurrency=concurrency,
            time_limit=seconds,
            store=store,
            seed=seed,
            check_timeout=1,
            rate=0,
        )
        result = core.run(spec)
        main_phase = [
            op for op in result.history if op.time is not None and op.time <= seconds * 1e9
        ]
        return len([op for op in main_phase if op.type != "invoke"]) / seconds


def bare_ops_per_second(seconds: float, seed: int) -> float:
    store = MemoryStore()
    counts = [0] * CONCURRENCY
    stop = threading.Event()

    def loop(worker: int) -> None:
        rng = random.Random(seed * 100 + worker)
        value = worker * 10**9
        n = 0
        while not stop.is_set():
            key = rng.randrange(8)
            roll = rng.random()
            if roll < 0.4:
                store.read(key)
            elif roll < 0.7:
                value += 1
                store.write(key, value)
            else:
                value += 1
                store.cas(key, value - 2, value)
            n += 1
        counts[worker] = n

    threads = [threading.Thread(target=loop, args=(w,)) for w in range(CONCURRENCY)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return sum(counts) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    harness = [harness_ops_per_second(args.seconds, seed) for seed in range(args.runs)]
    bare = [bare_ops_per_second(args.seconds, seed) for seed in range(args.runs)]
    single = [harness_ops_per_second(args.seconds, seed, 1) for seed in range(args.runs)]
    h, b = statistics.median(harness), statistics.median(bare)
    print(
        f"harness, concurrency {CONCURRENCY}: median {h:,.0f} ops/s  (runs: {', '.join(f'{x:,.0f}' for x in harness)})"
    )
    print(
        f"bare loop, {CONCURRENCY} threads:   median {b:,.0f} ops/s  (runs: {', '.join(f'{x:,.0f}' for x in bare)})"
    )
    print(f"harness / bare: {h / b:.1%}")
    print(
        f"harness, 1 worker:        median {statistics.median(single):,.0f} ops/s  (runs: {', '.join(f'{x:,.0f}' for x in single)})"
    )


if __name__ == "__main__":
    main()
