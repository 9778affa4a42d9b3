"""How often a default-length run finds the memory target's deliberate faults, and its size.

For each --rate and fault mode, runs ``splitbrain test`` over several seeds and prints the
fraction found INVALID and the median run-directory size. This is what the default --rate
was chosen from: the smallest rate that still finds every fault mode at every seed tried.
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


def one(rate: float, fault: str, seed: int, time_limit: float, workload: str) -> tuple[int, int]:
    with tempfile.TemporaryDirectory() as store:
        argv = [
            sys.executable,
            "-m",
            "splitbrain.harness.front.cli",
            "test",
            "--workload",
            workload,
        ]
        argv += ["--rate", str(rate), "--seed", str(seed), "--store", store]
        argv += ["--time-limit", str(time_limit), "-o", f"fault={fault}"]
        code = subprocess.run(argv, capture_output=True, timeout=600).returncode
        return code, run_dir_size((Path(store) / "latest").resolve())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rates", default="50,100,200")
    p.add_argument("--faults", default="stale-reads,lost-writes")
    p.add_argument("--workload", default="register")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--time-limit", type=float, default=10)
    a = p.parse_args()
    print(f"workload {a.workload}, {a.time_limit:g} s, seeds 1..{a.seeds}")
    for rate in [float(r) for r in a.rates.split(",")]:
        for fault in a.faults.split(","):
            runs = [one(rate, fault, s, a.time_limit, a.workload) for s in range(1, a.seeds + 1)]
            found = sum(1 for code, _ in runs if code == 1)
            size = statistics.median(s for _, s in runs) / 1e6
            print(
                f"rate {rate:g}  {fault:12}  found {found}/{len(runs)}  median size {size:.2f} MB"
            )


if __name__ == "__main__":
    main()
