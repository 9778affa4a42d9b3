"""How often a default-length run finds a target's faults, and its size.

For each --rate and fault mode, runs ``splitbrain test`` over several seeds and prints the
fraction found INVALID and the median run-directory size. This is what the default --rate
was chosen from: the smallest rate that still finds every fault mode at every seed tried.
The memory target's fault modes are ``-o fault=MODE`` (--faults); another target's fault
is its options and nemeses, e.g. ``--target sim --faults none --workload set
-o replication=leader-async -o kill=leader --nemesis kill`` (a rate of ``default`` gives
no --rate).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def run_dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def one(rate: str, fault: str, seed: int, a: argparse.Namespace) -> tuple[int, int]:
    with tempfile.TemporaryDirectory() as store:
        argv = [sys.executable, "-m", "splitbrain.harness.front.cli", "test"]
        argv += ["--target", a.target, "--workload", a.workload]
        argv += [] if rate == "default" else ["--rate", rate]
        argv += ["--seed", str(seed), "--store", store, "--time-limit", str(a.time_limit)]
        argv += [] if fault == "none" else ["-o", f"fault={fault}"]
        for option in a.option:
            argv += ["-o", option]
        if a.nemesis:
            argv += ["--nemesis", a.nemesis, "--nemesis-interval", str(a.nemesis_interval)]
        code = subprocess.run(argv, capture_output=True, timeout=1800).returncode
        return code, run_dir_size((Path(store) / "latest").resolve())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rates", default="50,100,200", help="comma-separated; 'default': no --rate")
    p.add_argument("--faults", default="stale-reads,lost-writes", help="memory's; 'none'")
    p.add_argument("--target", default="memory")
    p.add_argument("--workload", default="register")
    p.add_argument("-o", "--option", action="append", default=[], help="KEY=VALUE, repeatable")
    p.add_argument("--nemesis", default="")
    p.add_argument("--nemesis-interval", type=float, default=3)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--time-limit", type=float, default=10)
    a = p.parse_args()
    extra = " ".join([*(f"-o {o}" for o in a.option), a.nemesis and f"--nemesis {a.nemesis}"])
    print(f"{a.target} {a.workload} {extra}, {a.time_limit:g} s, seeds 1..{a.seeds}")
    for rate in a.rates.split(","):
        for fault in a.faults.split(","):
            runs = [one(rate, fault, s, a) for s in range(1, a.seeds + 1)]
            found = sum(1 for code, _ in runs if code == 1)
            size = statistics.median(s for _, s in runs) / 1e6
            print(f"rate {rate}  {fault:12}  found {found}/{len(runs)}  median size {size:.2f} MB")


if __name__ == "__main__":
    main()
