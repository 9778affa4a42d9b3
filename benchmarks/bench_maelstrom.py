"""The maelstrom target's speed: start+end overhead of a 5-node echo test, and the router's
delivered messages per second at 25 nodes, rate 1,000, about 30 messages per op, with
its delivery lateness (the time a message is handed to its destination minus its due time;
node messages have 10 ms latency, so they wait on the router's heap and timer). To say why
a run is late, each run also prints how late the router woke after sleeping until a message
was due (the time the operating system kept it waiting, not time it was busy), the share
of the machine's CPU left idle, and the load average.

Usage: python benchmarks/bench_maelstrom.py [--runs R] [--time-limit S]. Prints medians.
Goals: overhead < 2 s; >= 30,000 delivered msgs/s; lateness p99 <= 1 ms.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from splitbrain.targets.maelstrom.network import Network
from splitbrain.targets.maelstrom.router import NodeProcess, Router

HERE = Path(__file__).resolve().parent
ECHO = HERE.parent / "tests" / "maelstrom_nodes" / "echo.py"
FANOUT = HERE / "maelstrom_fanout_node.py"
FILL_S = 0.1


def run(store: str, *args: str) -> tuple[float, dict, Path]:
    argv = [
        sys.executable,
        "-m",
        "splitbrain.harness.front.cli",
        "maelstrom",
        "test",
        "--store",
        store,
    ]
    t0 = time.perf_counter()
    done = subprocess.run([*argv, *args], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"run failed ({done.returncode}): {done.stderr[-2000:]}")
    latest = sorted(p for p in Path(store).glob("maelstrom-*/2*") if p.is_dir())[-1]
    return wall, json.loads((latest / "results.json").read_text()), latest


def steady_rates(run_dir: Path) -> tuple[float, float]:
    """Delivered messages per second and client requests per second while the load was on:
    from ``FILL_S`` after the run's first client request (the network filling up: node
    messages take 10 ms) to its last (the journal's own clock). The whole-run figure also
    divides in the start and the end (the last 10 ms of node messages are still in flight
    when the nodes are stopped)."""
    first = last = None
    requests = 0
    recv_times = []
    with (run_dir / "net-journal.jsonl").open("rb") as f:
        for line in f:
            event = orjson.loads(line)
            kind = event["type"]
            if kind == "recv":
                recv_times.append(event["time"])
            elif kind == "send" and event["from"].startswith("c"):
                if event["message"]["body"].get("type") == "init":
                    continue
                requests += 1
                first = event["time"] if first is None else first
                last = event["time"]
    if first is None or last is None or last <= first:
        return 0.0, 0.0
    start = first + int(FILL_S * 1e9)
    delivered = sum(start <= t <= last for t in recv_times)
    return delivered / ((last - start) / 1e9), (requests - 1) / ((last - first) / 1e9)


def cpu_times() -> tuple[int, int]:
    """The machine's idle and total CPU ticks so far (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[3] + fields[4], sum(fields)


def idle_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total else 0.0


def router_alone(messages: int = 200_000) -> float:
    """Messages per second through the router's own path (parse, route, decide, journal,
    deliver to a node's buffer), with no processes or pipes: what the router thread costs."""
    network = Network(1, 0.0, "constant")
    with tempfile.TemporaryDirectory() as d:
        router = Router(network, Path(d) / "journal.jsonl", 1)
        nodes = [f"n{i}" for i in range(25)]
        for n in nodes:
            router.nodes[n] = NodeProcess(n, None, io.BytesIO())  # type: ignore[arg-type]
            router.known_nodes.add(n)
        rng = random.Random(1)
        lines = [
            orjson.dumps(
                {"src": rng.choice(nodes), "dest": rng.choice(nodes), "body": {"type": "noise"}}
            )
            for _ in range(1000)
        ]
        sender = router.nodes["n0"]
        t0 = time.perf_counter()
        for i in range(messages):
            router._from_node(sender, lines[i % 1000])
            if i % 30 == 0:
                router._deliver_due()
                for n in nodes:
                    router.nodes[n].out.clear()
        router._deliver_due()
        elapsed = time.perf_counter() - t0
        router.journal.close()
    return messages / elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=5.0)
    ap.add_argument(
        "--fanout", type=int, default=28, help="noise messages per echo (msgs/op is about this + 2)"
    )
    args = ap.parse_args()
    alone = statistics.median(router_alone() for _ in range(args.runs))
    print(f"router alone (no processes, no pipes): median {alone:,.0f} msgs/s")
    with tempfile.TemporaryDirectory() as store:
        overheads = []
        for _ in range(args.runs):
            wall, _, _ = run(
                store, "-w", "echo", "--bin", str(ECHO), "--time-limit", "1", "--rate", "10"
            )
            overheads.append(wall - 1.0)
        print(
            f"5-node echo, time limit 1 s: start+end overhead median {statistics.median(overheads):.2f} s (goal < 2 s)"
        )
        rates, p99s, medians, per_op, wake_p99s, idles = [], [], [], [], [], []
        steady, op_rates = [], []
        for _ in range(args.runs):
            before = cpu_times()
            _, results, run_dir = run(
                store, "-w", "echo", "--bin", str(FANOUT), "--node-count", "25", "--concurrency", "1n",
                "--rate", "1000", "--latency", "10", "--time-limit", f"{args.time_limit:g}",
                str(args.fanout),
            )  # fmt: skip
            net = results["net"]
            delivered, requests = steady_rates(run_dir)
            steady.append(delivered)
            op_rates.append(requests)
            rates.append(net["all"]["recv-count"] / args.time_limit)
            offered = net["all"]["send-count"] / args.time_limit
            per_op.append(net["all"]["msgs-per-op"])
            p99s.append(net["delivery-lateness-ms"]["p99"])
            medians.append(net["delivery-lateness-ms"]["median"])
            wake_p99s.append(net["wakeup-lateness-ms"]["p99"])
            idles.append(idle_share(before, cpu_times()))
            ops = results["checkers"]["stats"]["by_outcome"]
            print(
                f"  run: while the load was on {delivered:,.0f} delivered msgs/s at {requests:,.1f} "
                f"requests/s; over the whole time limit {rates[-1]:,.0f} delivered msgs/s of "
                f"{offered:,.0f} sent ({sum(ops.values()) / args.time_limit:,.0f} ops/s), "
                f"{per_op[-1]} msgs/op, ops {ops}, "
                f"lateness median {medians[-1]} ms p99 {p99s[-1]} ms; the router woke "
                f"{wake_p99s[-1]} ms late (p99) after sleeping until a message was due; "
                f"the router used {net['router-cpu-s']} CPU s and was preempted "
                f"{net['router-preempted']:,} times; CPU idle {idles[-1]:.0%}, "
                f"load {os.getloadavg()[0]:.1f}"
            )
        print(
            f"25 nodes, rate 1000, ~30 msgs/op: median {statistics.median(steady):,.0f} delivered "
            f"msgs/s while the load was on (goal >= 30,000) at {statistics.median(op_rates):,.1f} "
            f"requests/s, {statistics.median(rates):,.0f} over the whole time limit, msgs/op {statistics.median(per_op)}, delivery lateness median "
            f"{statistics.median(medians)} ms, p99 {statistics.median(p99s)} ms (goal <= 1 ms); "
            f"wake-up lateness p99 {statistics.median(wake_p99s)} ms, CPU idle {statistics.median(idles):.0%}"
        )


if __name__ == "__main__":
    main()
