"""The maelstrom target's speed: start+end overhead of a 5-node echo test, and the router's
delivered messages per second at 25 nodes, rate 1,000, about 30 messages per op, with
its delivery lateness (the time a message is handed to its destination minus its due time;
node messages have 10 ms latency, so they wait on the router's heap and timer).

Usage: python benchmarks/bench_maelstrom.py [--runs R] [--time-limit S]. Prints medians.
Goals: overhead < 2 s; >= 30,000 delivered msgs/s; lateness p99 <= 1 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ECHO = HERE.parent / "tests" / "maelstrom_nodes" / "echo.py"
FANOUT = HERE / "maelstrom_fanout_node.py"


def run(store: str, *args: str) -> tuple[float, dict]:
    argv = [sys.executable, "-m", "splitbrain.harness.cli", "maelstrom", "test", "--store", store]
    t0 = time.perf_counter()
    done = subprocess.run([*argv, *args], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"run failed ({done.returncode}): {done.stderr[-2000:]}")
    latest = sorted(p for p in Path(store).glob("maelstrom-*/2*") if p.is_dir())[-1]
    return wall, json.loads((latest / "results.json").read_text())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=5.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as store:
        overheads = []
        for _ in range(args.runs):
            wall, _ = run(
                store, "-w", "echo", "--bin", str(ECHO), "--time-limit", "1", "--rate", "10"
            )
            overheads.append(wall - 1.0)
        print(
            f"5-node echo, time limit 1 s: start+end overhead median {statistics.median(overheads):.2f} s (goal < 2 s)"
        )
        rates, p99s, medians, per_op = [], [], [], []
        for _ in range(args.runs):
            _, results = run(
                store, "-w", "echo", "--bin", str(FANOUT), "--node-count", "25", "--concurrency", "1n",
                "--rate", "1000", "--latency", "10", "--time-limit", f"{args.time_limit:g}",
            )  # fmt: skip
            net = results["net"]
            rates.append(net["all"]["recv-count"] / args.time_limit)
            per_op.append(net["all"]["msgs-per-op"])
            p99s.append(net["delivery-lateness-ms"]["p99"])
            medians.append(net["delivery-lateness-ms"]["median"])
            ops = results["checkers"]["stats"]["by_outcome"]
            print(
                f"  run: {rates[-1]:,.0f} delivered msgs/s, {per_op[-1]} msgs/op, ops {ops}, lateness median {medians[-1]} ms p99 {p99s[-1]} ms"
            )
        print(
            f"25 nodes, rate 1000, ~30 msgs/op: median {statistics.median(rates):,.0f} delivered msgs/s "
            f"(goal >= 30,000), msgs/op {statistics.median(per_op)}, delivery lateness median "
            f"{statistics.median(medians)} ms, p99 {statistics.median(p99s)} ms (goal <= 1 ms)"
        )


if __name__ == "__main__":
    main()
