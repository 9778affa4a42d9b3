"""Simulated ops per wall-clock second: a 5-node leader-sync cluster under partitions.

Runs the whole simulation (clients, Raft, network, nemesis, history written to disk with a
flush per op) without the checker, several times, and prints the median. Goal: >= 20,000.

    python benchmarks/bench_sim.py [--time-limit 60] [--repeat 5] [--concurrency 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from splitbrain import workloads
from splitbrain.harness.base.history import HistoryWriter
from splitbrain.harness.engine import assemble
from splitbrain.harness.engine.core import TestSpec, interpret
from splitbrain.targets.sim.cluster import parse_config
from splitbrain.targets.sim.driver import SimRuntime


def one_run(time_limit: float, concurrency: int, seed: int, rate: float) -> tuple[int, float, int]:
    spec = TestSpec(
        target="sim",
        nemesis=["partition"],
        time_limit=time_limit,
        concurrency=concurrency,
        seed=seed,
        rate=rate,
    )
    workload = assemble.workload("register", workloads.WorkloadSpec(keys=spec.keys, seed=seed))
    options = {"replication": "leader-sync", "nodes": "5"}
    with tempfile.TemporaryDirectory() as tmp:
        writer = HistoryWriter(Path(tmp) / "history.jsonl")
        started = time.perf_counter()
        runtime = SimRuntime(
            parse_config(options), seed, "register", writer, concurrency, spec.op_timeout
        )
        interpret(spec, workload, runtime)
        wall = time.perf_counter() - started
        writer.close()
        cluster = runtime.cluster
    ops = sum(1 for op in writer.ops if op.is_client and op.type != "invoke")
    return ops, wall, cluster.sim.events


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--time-limit", type=float, default=60.0, help="simulated seconds per run")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--concurrency", type=int, default=5)
    p.add_argument("--rate", type=float, default=0.0)
    args = p.parse_args()
    rates, walls = [], []
    for seed in range(args.repeat):
        ops, wall, events = one_run(args.time_limit, args.concurrency, seed, args.rate)
        rates.append(ops / wall)
        walls.append(wall)
        print(
            f"seed {seed}: {ops} ops, {events} events, {args.time_limit:g} s simulated "
            f"in {wall:.2f} s wall: {ops / wall:,.0f} ops/s"
        )
    print(
        f"median: {statistics.median(rates):,.0f} simulated ops/s "
        f"(5-node leader-sync, partitions, concurrency {args.concurrency}); "
        f"median wall time {statistics.median(walls):.2f} s for {args.time_limit:g} s simulated"
    )


if __name__ == "__main__":
    main()
