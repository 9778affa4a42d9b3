"""``splitbrain maelstrom test``: Maelstrom's command line, run by splitbrain.

``./maelstrom test -w broadcast --bin ./node --node-count 5 ...`` becomes
``splitbrain maelstrom test -w broadcast --bin ./node --node-count 5 ...`` with the same
option names and defaults; arguments after the binary go to the node. The run is an
ordinary ``splitbrain test --target maelstrom`` run (its replay command says so).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys

from splitbrain.harness.base.protocols import HarnessInputError
from splitbrain.harness.engine import core
from splitbrain.harness.front import present
from splitbrain.harness.front.command_shared import run_exit_code

DASHES = ("\u2013", "\u2014", "\u2212", "\u2012")
"""En dash, em dash, minus sign, figure dash: what a word processor makes of ``--``."""
NEMESES = {"partition": "partition", "kill": "kill", "pause": "pause"}
DEFAULT_KEYS = {"txn-list-append": 3, "txn-rw-register": 3}
MAX_NODES = 1000
"""As the target's ``-o node-count`` (``targets.maelstrom.MAXIMA``)."""
DEFAULT_NODES = ("n1", "n2", "n3", "n4", "n5")
"""Jepsen's default nodes, which Maelstrom runs when given neither --node-count nor --nodes."""


def concurrency(text: str, node_count: int) -> int:
    """``N`` or ``Kn`` (K times the node count), as Maelstrom's ``--concurrency``."""
    t = text.strip().lower()
    try:
        value = float(t[:-1] or 1) * node_count if t.endswith("n") else float(t)
    except ValueError:
        raise HarnessInputError(f"--concurrency: expected N or Kn, got {text!r}") from None
    if not (value >= 1 and float(value).is_integer()):
        raise HarnessInputError(f"--concurrency: must be a whole number >= 1, got {text!r}")
    return int(value)


def mistyped(args: list[str]) -> list[str]:
    """Node arguments that look like options typed with a dash that is not ``-``."""
    return [a for a in args if a[:1] in DASHES]


def add_arguments(mael: argparse.ArgumentParser) -> None:
    """``maelstrom test`` under ``splitbrain maelstrom``."""
    msub = mael.add_subparsers(dest="maelstrom_command", metavar="COMMAND")
    p = msub.add_parser("test", help="test a node program with a Maelstrom workload")
    p.add_argument("-w", "--workload", default="lin-kv", help="workload (default: lin-kv)")
    p.add_argument("--bin", required=True, help="the node program")
    p.add_argument(
        "--node-count", type=int, default=None, help="nodes n0..n{N-1} (default: n1..n5)"
    )
    p.add_argument("--nodes", default="", help="node ids, comma-separated (instead of a count)")
    p.add_argument("--node", action="append", default=[], help="a node id (repeatable), as --nodes")
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds (default: 60)")
    p.add_argument("--rate", type=float, default=5.0, help="requests per second (default: 5)")
    p.add_argument("--concurrency", default="1n", help="clients: N or Kn nodes (default: 1n)")
    p.add_argument("--latency", type=float, default=0.0, help="mean message latency, ms")
    p.add_argument("--latency-dist", default="constant", help="constant|uniform|exponential")
    p.add_argument("--nemesis", default="", help="faults, comma-separated (default: none)")
    p.add_argument("--nemesis-interval", type=float, default=10.0, help="seconds (default: 10)")
    p.add_argument("--topology", default="grid", help="broadcast topology (default: grid)")
    p.add_argument(
        "--availability", default="", help="total or a fraction of ops that must succeed"
    )
    p.add_argument("--consistency-models", default="strict-serializable", help="Elle models")
    p.add_argument("--key-count", type=int, default=None, help="keys (lin-kv 8, txn 3)")
    p.add_argument("--max-txn-length", type=int, default=4, help="micro-ops per txn (default: 4)")
    p.add_argument(
        "--max-writes-per-key", type=int, default=16, help="appends per key (default: 16)"
    )
    p.add_argument("--log-stderr", action="store_true", help="copy node stderr into the log")
    p.add_argument(
        "--log-net-send",
        action="store_true",
        help="accepted, as Maelstrom's: every message sent is in net-journal.jsonl anyway",
    )
    p.add_argument(
        "--log-net-recv",
        action="store_true",
        help="accepted, as Maelstrom's: every delivery is in net-journal.jsonl anyway",
    )
    p.add_argument(
        "--test-count",
        type=int,
        default=1,
        help="run the test this many times, stopping at the first that is not valid",
    )
    p.add_argument("--seed", type=int, default=None, help="random seed (default: fresh, recorded)")
    p.add_argument("--msgs-per-op", default="", help="limit on servers' messages per op")
    p.add_argument("--stable-latency", default="", help="limits, e.g. median:400,max:600 (ms)")
    p.add_argument("--recovery-time", type=float, default=10.0, help="seconds before final reads")
    p.add_argument("--init-timeout", type=float, default=10.0, help="seconds for init_ok")
    p.add_argument("--op-timeout", type=float, default=5.0, help="client timeout, s (default: 5)")
    p.add_argument("--store", default="reports", help="directory of runs (default: reports/)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_test, node_args=[])
    p.usage = "splitbrain maelstrom test -w WORKLOAD --bin PATH [OPTIONS] [ARGS...]"


def node_ids(args: argparse.Namespace) -> list[str]:
    """The nodes as Maelstrom picks them: --nodes / --node, else --node-count's n0..n{N-1},
    else Jepsen's default n1..n5."""
    named = [n.strip() for n in [*args.nodes.split(","), *args.node] if n.strip()]
    if named:
        if len(named) > MAX_NODES:
            raise HarnessInputError(f"--nodes: at most {MAX_NODES} nodes, got {len(named)}")
        return named
    if args.node_count is not None:
        if not 1 <= args.node_count <= MAX_NODES:
            raise HarnessInputError(
                f"--node-count: must be an integer from 1 to {MAX_NODES}, got {args.node_count}"
            )
        return [f"n{i}" for i in range(args.node_count)]
    return list(DEFAULT_NODES)


def spec_of(args: argparse.Namespace) -> core.TestSpec:
    nodes = node_ids(args)
    nemeses = [NEMESES.get(n.strip(), n.strip()) for n in args.nemesis.split(",") if n.strip()]
    options = {
        "bin": args.bin,
        "args": shlex.join(args.node_args),
        "node-count": str(len(nodes)),
        "nodes": ",".join(nodes) if nodes != [f"n{i}" for i in range(len(nodes))] else "",
        "latency": f"{args.latency:g}",
        "latency-dist": args.latency_dist,
        "topology": args.topology,
        "log-stderr": "true" if args.log_stderr else "false",
        "init-timeout": f"{args.init_timeout:g}",
        "msgs-per-op": args.msgs_per_op,
    }
    workload_options = {
        "availability": args.availability,
        "recovery-time": f"{args.recovery_time:g}",
        "max-txn-length": str(args.max_txn_length),
        "max-writes-per-key": str(args.max_writes_per_key),
        "consistency-models": args.consistency_models,
        "stable-latency": args.stable_latency,
    }
    keys = DEFAULT_KEYS.get(args.workload, 8) if args.key_count is None else args.key_count
    return core.TestSpec(
        target="maelstrom",
        workload=args.workload,
        nemesis=nemeses,
        concurrency=concurrency(args.concurrency, len(nodes)),
        time_limit=args.time_limit,
        rate=args.rate,
        keys=keys,
        seed=args.seed,
        store=args.store,
        name=f"maelstrom-{args.workload}",
        options=options,
        workload_options={k: v for k, v in workload_options.items() if v},
        nemesis_interval=args.nemesis_interval,
        settle=0.0,
        op_timeout=args.op_timeout,
    )


def cmd_test(args: argparse.Namespace) -> int:
    for arg in mistyped(args.node_args):
        print(
            f"splitbrain: warning: node argument {arg!r} looks like a mistyped option "
            "(a typographic dash instead of '-'); it is passed to the node as it is",
            file=sys.stderr,
        )
    if args.test_count < 1:
        raise HarnessInputError(f"--test-count: must be at least 1, got {args.test_count}")
    spec = spec_of(args)
    code = 0
    for _ in range(args.test_count):
        code = run_once(spec, args)
        if code != 0:
            break
    return code


def run_once(spec: core.TestSpec, args: argparse.Namespace) -> int:
    result = core.run(
        spec, on_start=lambda d: print(f"run directory: {d}", file=sys.stderr, flush=True)
    )
    if args.json:
        print(json.dumps(result.results, indent=2, default=str))
    else:
        print(present.run_text(result.results, result.run_dir, spec.command(), result.interrupted))
    return run_exit_code(result)
