"""Render the report of a synthetic 100,000-op run (with faults) and print time and page size.

Usage: python benchmarks/bench_report.py [OPS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from report_fixtures import RunSpec, make_run  # noqa: E402

from splitbrain.harness.report import write_report  # noqa: E402


def main() -> None:
    ops = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = make_run(
            Path(tmp), RunSpec(ops=ops, concurrency=10, counterexample=True, valid=False)
        )
        seconds = []
        for _ in range(3):
            t0 = time.perf_counter()
            page = write_report(run_dir)
            seconds.append(time.perf_counter() - t0)
        size = page.stat().st_size
    print(f"history ops: {ops}")
    print(
        f"render seconds: median {statistics.median(seconds):.2f} (runs: {', '.join(f'{s:.2f}' for s in seconds)})"
    )
    print(f"page size: {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
