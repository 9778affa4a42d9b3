"""The README's CAP table: each replication mode under partitions, over several seeds.

For each simulated replication mode (leader-sync, leader-async, multi-leader, leaderless with
strict and with sloppy quorums; and multi-leader under clock skew), and for etcd
(linearizable and serializable reads) and Redis (primary and replica reads) on real
clusters, runs the register workload (reads and writes of unique values) under the row's
faults once per seed, and prints a markdown table: the strongest consistency models that
held and the weakest that failed (the run's spectrum: linearizable down to the session
guarantees, and eventual; each with the number of seeds it was so in), the share of
requests served during the faults (median over seeds, and the lowest), the share of its
requests the worst node served in any one fault window (CAP's availability is every live
node's: a node whose clients wait out timeouts completes few ops, which the total hides), and
how the run behaved (``checkers.cap.classify``).

    python benchmarks/cap_table.py [--seeds 5] [--real-seeds 3] [--only sim|real] [--json FILE]

The sim rows take a few seconds each; the real rows need root, network namespaces and the
servers of ``.ci/apt-packages`` (about 40 s a run). The machine may be shared: the sim's
virtual time makes its rows the same whatever the load; the real rows are not.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tabulate import tabulate

from splitbrain.checkers import cap
from splitbrain.harness.engine import core
from splitbrain.harness.engine.spec import TestSpec


@dataclass(frozen=True)
class Row:
    system: str
    mode: str
    options: dict[str, str]
    nemesis: tuple[str, ...] = ("partition",)
    real: bool = False
    time_limit: float = 20.0
    interval: float = 3.0
    rate: float | None = 200.0
    """Ops per second (virtual ones in the sim); None: the target's default."""
    check_timeout: float = 20.0
    """Seconds each checker of the spectrum may take before it says unknown (the sequential
    search of an invalid history can use all of it)."""

    def spec(self, seed: int, store: str) -> TestSpec:
        return TestSpec(
            target=self.system,
            workload="register",
            model="register",
            nemesis=list(self.nemesis),
            options=dict(self.options),
            time_limit=self.time_limit,
            nemesis_interval=self.interval,
            seed=seed,
            store=store,
            name=f"{self.system}-{self.mode}".replace(",", "").replace(" ", "-"),
            rate=self.rate,
            check_timeout=self.check_timeout,
        )


SIM = {"node-reads": "true"}
"""Every simulated row reads each node after the heal, so convergence (``eventual``) is checked."""

REAL: dict[str, Any] = {"real": True, "time_limit": 16.0, "interval": 3.0, "rate": 100.0}

ROWS: tuple[Row, ...] = (
    Row("sim", "leader-sync", SIM | {"replication": "leader-sync"}),
    Row("sim", "leader-async", SIM | {"replication": "leader-async"}),
    Row("sim", "multi-leader", SIM | {"replication": "multi-leader"}),
    Row(
        "sim", "leaderless, strict quorums", SIM | {"replication": "leaderless", "sloppy": "false"}
    ),
    Row("sim", "leaderless, sloppy quorums", SIM | {"replication": "leaderless", "sloppy": "true"}),
    Row(
        "sim",
        "multi-leader, clock skew",
        SIM | {"replication": "multi-leader", "clock": "bump"},
        nemesis=("clock",),
    ),
    Row("etcd", "linearizable reads", {"reads": "linearizable"}, **REAL),
    Row("etcd", "serializable reads", {"reads": "serializable"}, **REAL),
    Row("redis", "primary reads", {"reads": "primary"}, **REAL),
    Row("redis", "replica reads", {"reads": "replica"}, **REAL),
)


@dataclass
class Measured:
    """One run of a row: what held, what failed, what was served during the faults."""

    seed: int
    held: list[str]
    failed: list[str]
    served: float | None
    worst_node: float | None
    behaved: str
    line: str
    run_dir: str


def measure(row: Row, seed: int, store: str) -> Measured:
    result = core.run(row.spec(seed, store))
    if result.interrupted:  # the run caught SIGINT/SIGTERM/SIGHUP: stop here, not at the next
        raise SystemExit(130)
    results = result.results
    profile = results.get("cap") or {}
    c = cap.consistency(results.get("checkers") or {}, results.get("spectrum"))
    key = (profile.get("classification") or {}).get("during")
    fault = (profile.get("during") or {}).get(key) if key else None
    served = fault["all"]["ok_fraction"] if fault else None
    return Measured(
        seed,
        c["held"],
        c["failed"],
        served,
        cap.worst_node(profile, key) if key else None,
        (profile.get("classification") or {}).get("behaved", "unknown"),
        (profile.get("classification") or {}).get("text", ""),
        str(result.run_dir),
    )


def _tally(values: Iterable[str], runs: int) -> str:
    counts = Counter(values)
    if not counts:
        return "-"
    return "; ".join(f"{v} ({n}/{runs})" for v, n in counts.most_common())


def _share(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "-"
    median, low = statistics.median(known), min(known)
    return cap.pct(median) if low == median else f"{cap.pct(median)} (lowest {cap.pct(low)})"


def table_row(row: Row, runs: list[Measured]) -> list[str]:
    n = len(runs)
    return [
        row.system,
        row.mode,
        "+".join(row.nemesis),
        str(n),
        _tally((", ".join(m.held) or "none" for m in runs), n),
        _tally((", ".join(m.failed) or "none" for m in runs), n),
        _share([m.served for m in runs]),
        _share([m.worst_node for m in runs]),
        _tally((m.behaved for m in runs), n),
    ]


HEADERS = (
    "system",
    "mode",
    "faults",
    "seeds",
    "strongest held",
    "weakest failed",
    "served during faults",
    "worst node served",
    "behaved",
)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5, help="seeds per simulated row")
    p.add_argument("--real-seeds", type=int, default=3, help="seeds per etcd or Redis row")
    p.add_argument("--only", choices=("sim", "real"), default=None)
    p.add_argument("--json", type=Path, default=None, help="also write every run's figures here")
    p.add_argument("--store", default=None, help="keep the runs here (default: a temporary one)")
    args = p.parse_args(argv)
    rows = [r for r in ROWS if args.only is None or r.real == (args.only == "real")]
    table, dump = [], []
    with tempfile.TemporaryDirectory(prefix="cap-table-") as scratch:
        store = args.store or scratch
        for row in rows:
            runs = []
            for seed in range(args.real_seeds if row.real else args.seeds):
                m = measure(row, seed, store)
                print(f"{row.system} {row.mode} seed {seed}: {m.line}", file=sys.stderr)
                runs.append(m)
            table.append(table_row(row, runs))
            dump.append({"system": row.system, "mode": row.mode, "runs": [vars(m) for m in runs]})
    print(tabulate(table, headers=HEADERS, tablefmt="github"))
    if args.json is not None:
        args.json.write_text(json.dumps(dump, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
