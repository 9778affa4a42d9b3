"""Start-up of the command line, the fixed cost of every command: prints medians.

Rows: wall and CPU seconds of ``splitbrain --version``, ``splitbrain --help`` and
``splitbrain check --model cas-register`` on a one-op history, each a fresh process; then
the ``python -X importtime`` total (the sum of every module's own time) of importing the
CLI and of that ``check``, and the modules ``check`` spends most on.

Usage: python benchmarks/bench_startup.py [RUNS] (default 11, at least 9 is meaningful).
``PYTHONDONTWRITEBYTECODE`` is unset for the children: it would recompile every module.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ONE_OP = (
    '{"index": 0, "process": 0, "type": "invoke", "f": "write", "value": 1}\n'
    '{"index": 1, "process": 0, "type": "ok", "f": "write", "value": 1}\n'
)
TOP = 12


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _command() -> list[str]:
    """The installed console script beside this interpreter, else ``python -m`` the CLI."""
    script = shutil.which("splitbrain", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "splitbrain.harness.front.cli"]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``argv``, run ``runs`` times (after one warm-up)."""
    subprocess.run(argv, env=_env(), capture_output=True, check=False)
    walls, cpus = [], []
    for _ in range(runs):
        cpu0, t0 = _cpu(), time.perf_counter()
        subprocess.run(argv, env=_env(), capture_output=True, check=False)
        walls.append(time.perf_counter() - t0)
        cpus.append(_cpu() - cpu0)
    return statistics.median(walls), statistics.median(cpus)


def import_times(args: list[str]) -> dict[str, int]:
    """Each module's own import time in microseconds, from ``python -X importtime ARGS``."""
    r = subprocess.run(
        [sys.executable, "-X", "importtime", *args], env=_env(), capture_output=True, text=True
    )
    own: dict[str, int] = {}
    for line in r.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line[len("import time:") :].split("|")
        own[name.strip()] = int(self_us)
    return own


def median_import(args: list[str], runs: int) -> tuple[float, dict[str, int]]:
    """The median total (seconds) over ``runs``, and the run of that median's modules."""
    totals = sorted((sum(t.values()), t) for t in (import_times(args) for _ in range(runs)))
    total, modules = totals[len(totals) // 2]
    return total / 1e6, modules


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 11
    cli = _command()
    print(f"command: {' '.join(cli)}; {runs} runs each; load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        history = Path(tmp) / "one.jsonl"
        history.write_text(ONE_OP)
        check = ["check", "--model", "cas-register", str(history)]
        for label, argv in (
            ("splitbrain --version", ["--version"]),
            ("splitbrain --help", ["--help"]),
            ("splitbrain check (1 op)", check),
        ):
            wall, cpu = timed([*cli, *argv], runs)
            print(f"{label:<32} wall {wall:.3f} s  cpu {cpu:.3f} s (medians)")
        total, _ = median_import(["-c", "import splitbrain.harness.front.cli"], runs)
        print(f"{'importtime: the CLI module':<32} {total:.3f} s (median of the sums)")
        total, modules = median_import(["-m", "splitbrain.harness.front.cli", *check], runs)
        print(f"{'importtime: check (1 op)':<32} {total:.3f} s (median of the sums)")
    print(f"its {TOP} costliest modules (own time, ms, of the median run):")
    for name, us in sorted(modules.items(), key=lambda kv: -kv[1])[:TOP]:
        print(f"  {us / 1000:6.1f}  {name}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
