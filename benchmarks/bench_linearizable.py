"""Benchmark of checkers.linearizable: prints the median of several runs for each case.

    python benchmarks/bench_linearizable.py [--runs 5] [--shared ../shared/histories] [--whole-command]

Cases: all porcupine etcd logs (checked in-process, and the whole ``splitbrain check``
command on them), porcupine kv c50-ok and c50-bad, a generated register history (100,000
ops, 50 processes, 100 keys, unique values) checked in-process, and the whole command on
such histories with unique values and with values 0-99 (the unique one also written as
Jepsen's history.edn and as a jepsen.log, ``[k v]`` values); generated single-key histories of
20,000 ops with 20 processes and unique values, valid and with one late stale read: reads
and writes only, 30% of all ops CAS, and 50% (every update a CAS, so long chains); and
single-key histories of reads and writes with repeated values (12, 16 and 20 processes,
values 0-99 and 0-4), valid and with one late stale read, and values 0-4 with 2% of the
ops indeterminate; and one key of 100,000 ops, values 0-4, 60% CAS, 2% indeterminate. The
generator below is
deterministic (seeded), so anyone can reproduce the figures. The last line is the peak
memory of the benchmark process.

Porcupine runs beside the whole-command rows, on the same files, when ``go`` is on the PATH
and porcupine's source is at ``--porcupine DIR`` (or ``$PORCUPINE_SRC``): the driver in
benchmarks/porcupine/ is built against it through a temporary Go workspace (no module
download), and each of its rows times the whole driver process, reading included.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from splitbrain.checkers.linearizable import check
from splitbrain.harness.base.history import Op, read_history


def generate_register_history(
    n_ops: int,
    processes: int,
    keys: int,
    *,
    seed: int = 1,
    read_ratio: float = 0.5,
    info_ratio: float = 0.002,
    stale_read_at: float | None = None,
    cas_ratio: float = 0.0,
    values: int | None = None,
) -> list[Op]:
    """A linearizable run of a register store: unique written values per key, or, with
    ``values``, values drawn from ``range(values)``.

    Each process invokes an op, the op takes effect at a random instant of its interval,
    and completes later. An ``info`` op took effect but its client never learned it; its
    process is retired and replaced by a fresh one, as in Jepsen. With ``stale_read_at``
    (a fraction), the first read completing after that point returns a value of its key
    that was overwritten long before: the history is then not linearizable. ``cas_ratio``
    of the updates are CASes from the last value written to the key when they were invoked,
    failing (``fail``) when the register holds another value by then. With ``values`` the
    stale read returns a value no write of which was running, and which a completed write
    of another value overwrote, before the read began; an indeterminate write may take
    effect at any later time, so writes of 0 are never indeterminate there and 0 is the
    value it prefers: the history cannot be linearized.
    """
    rng = random.Random(seed)
    regs: list[Any] = [None] * keys
    written: list[list[Any]] = [[] for _ in range(keys)]
    events: list[tuple[float, int, int, str]] = []
    ops: dict[int, dict[str, Any]] = {}
    next_value = 1
    last_done: list[dict[Any, float]] = [{} for _ in range(keys)]
    running: list[dict[Any, int]] = [{} for _ in range(keys)]
    overwrites: list[list[tuple[float, float, Any]]] = [[] for _ in range(keys)]
    next_proc = processes
    seq = 0

    def new_value() -> Any:
        nonlocal next_value
        if values is not None:
            return rng.randrange(values)
        next_value += 1
        return next_value - 1

    def start(proc: int, now: float) -> None:
        nonlocal seq
        key = rng.randrange(keys)
        if rng.random() < read_ratio:
            f, value = "read", None
        elif rng.random() < cas_ratio:
            f, value = "cas", [written[key][-1] if written[key] else None, new_value()]
        else:
            f, value = "write", new_value()
        seq += 1
        inv = now + rng.random()
        lin = inv + rng.random() * 3
        done = lin + rng.random() * 3
        ops[seq] = {"process": proc, "f": f, "key": key, "value": value, "inv": inv}
        if f != "read":
            new = value if f == "write" else value[1]
            running[key][new] = running[key].get(new, 0) + 1
        heapq.heappush(events, (inv, seq, 0, "invoke"))
        heapq.heappush(events, (lin, seq, 1, "apply"))
        heapq.heappush(events, (done, seq, 2, "complete"))

    for p in range(processes):
        start(p, 0.0)
    history: list[Op] = []
    started = processes
    stale_done = stale_read_at is None
    while events:
        now, s, _, what = heapq.heappop(events)
        op = ops[s]
        k = op["key"]
        if what == "invoke":
            history.append(Op("invoke", op["f"], op["process"], op["value"], key=k))
        elif what == "apply":
            if op["f"] == "write" or (op["f"] == "cas" and regs[k] == op["value"][0]):
                new = op["value"] if op["f"] == "write" else op["value"][1]
                regs[k] = new
                written[k].append(new)
            elif op["f"] == "cas":
                op["failed"] = True
            else:
                op["result"] = regs[k]
        else:
            typ = "info" if rng.random() < info_ratio else "fail" if op.get("failed") else "ok"
            value = op.get("result", op["value"])
            if op["f"] != "read":
                new = op["value"] if op["f"] == "write" else op["value"][1]
                if typ == "info" and values is not None and stale_read_at is not None and new == 0:
                    typ = "ok"
                running[k][new] -= 1
                if typ == "info" or last_done[k].get(new) == float("inf"):
                    last_done[k][new] = float("inf")
                else:
                    last_done[k][new] = now
                if typ == "ok" and not op.get("failed"):
                    overwrites[k].append((ops[s]["inv"], now, new))
            if (
                not stale_done
                and op["f"] == "read"
                and len(history) >= stale_read_at * 2 * n_ops
                and len(written[k]) > 60
            ):
                stale = (
                    written[k][-50]
                    if values is None
                    else _stale_value(values, op["inv"], running[k], last_done[k], overwrites[k])
                )
                if stale is not None:
                    value = stale
                    typ = "ok"
                    stale_done = True
            history.append(Op(typ, op["f"], op["process"], None if typ == "info" else value, key=k))
            if started < n_ops:
                proc = op["process"]
                if typ == "info":
                    proc = next_proc
                    next_proc += 1
                start(proc, now)
                started += 1
    for i, op in enumerate(history):
        op.index = i
    return history


def _stale_value(
    values: int,
    read_inv: float,
    running: dict[Any, int],
    last_done: dict[Any, float],
    overwrites: list[tuple[float, float, Any]],
) -> Any:
    """A value of range(values) that a read invoked at ``read_inv`` cannot have seen, or None."""
    for v in range(values):
        if running.get(v) or v not in last_done:
            continue
        if any(
            inv > last_done[v] and done < read_inv and new != v
            for inv, done, new in reversed(overwrites[-200:])
        ):
            return v
    return None


def single_key(
    stale: bool,
    cas_ratio: float = 0.0,
    processes: int = 20,
    values: int | None = None,
    info_ratio: float = 0.002,
    n: int = 20_000,
    seed: int = 7,
) -> list[Op]:
    """``n`` ops on one key; half reads, ``cas_ratio`` of the updates CAS."""
    return generate_register_history(
        n,
        processes,
        1,
        seed=seed,
        stale_read_at=0.9 if stale else None,
        cas_ratio=cas_ratio,
        values=values,
        info_ratio=info_ratio,
    )


SINGLE_KEY_CASES = [
    (0.0, ""),
    (0.6, ", 30% CAS"),
    (1.0, ", 50% CAS"),
]

REPEATED_CASES = [(12, 100, (False,)), (16, 100, (False, True)), (20, 100, (False, True))]
REPEATED_CASES += [(16, 5, (False, True)), (20, 5, (False, True))]
"""(processes, values drawn from range(values), which of valid / one stale read)."""

CRASHY_CASES = [(16, 5), (20, 5)]
"""Repeated values with 2% of the ops indeterminate (ten times the other cases' share)."""


CPU: list[float] = []
"""The median CPU seconds of each row's runs, beside its median wall time: on a shared
machine the wall time mostly measures the others' load, the CPU time much less so."""


def _edn(v: Any) -> str:
    if v is None:
        return "nil"
    if isinstance(v, list):
        return "[" + " ".join(map(_edn, v)) + "]"
    return str(v)


def _edn_line(op: Op) -> str:
    """``op`` as a line of Jepsen's history.edn, its key in a ``[k v]`` value (independent)."""
    value = _edn([op.key, op.value])
    return (
        f"{{:type :{op.type}, :f :{op.f}, :value {value}, :process {op.process}, "
        f":time {op.time or 0}, :index {op.index}}}\n"
    )


def _log_line(op: Op) -> str:
    """``op`` as a line of Jepsen's jepsen.log (porcupine's etcd logs)."""
    return f"INFO  jepsen.util - {op.process}\t:{op.type}\t:{op.f}\t{_edn([op.key, op.value])}\n"


def median_time(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times = []
    cpu = []
    out = None
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    CPU.append(statistics.median(cpu))
    return statistics.median(times), out


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def command_time(model: str, files: list[Path], runs: int) -> tuple[float, str]:
    """Median wall time of the whole ``splitbrain check`` command (startup, reading, checking);
    its median CPU time (the command's own and its workers') goes to ``CPU``. The command runs
    as installed, with its bytecode cached: without, each start compiles some 70 modules."""
    exe = Path(sys.executable).with_name("splitbrain")
    argv = [str(exe), "check", "--model", model, *map(str, files)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return process_time(argv, runs, env)


def process_time(
    argv: list[str], runs: int, env: dict[str, str] | None = None
) -> tuple[float, str]:
    """Median wall time of a checking command and its verdict (from its exit status); its
    median CPU time goes to ``CPU``."""
    times = []
    cpu = []
    out = ""
    for _ in range(runs):
        t, c = time.perf_counter(), _children_cpu()
        done = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
        times.append(time.perf_counter() - t)
        cpu.append(_children_cpu() - c)
        out = {0: "valid", 1: "invalid", 2: "unknown"}.get(
            done.returncode, f"exit {done.returncode}"
        )
    CPU.append(statistics.median(cpu))
    return statistics.median(times), out


PORCUPINE_DRIVER = Path(__file__).resolve().parent / "porcupine"


def build_porcupine(src: str | None, into: Path) -> Path | None:
    """The porcupine driver built against porcupine's source at ``src``, or None (said why)."""
    go = shutil.which("go")
    if go is None:
        print("(go not found: porcupine rows skipped)", file=sys.stderr)
        return None
    if not src or not (Path(src) / "go.mod").is_file():
        print(
            "(no porcupine source: pass --porcupine DIR; porcupine rows skipped)", file=sys.stderr
        )
        return None
    work = into / "go.work"
    work.write_text(f"go 1.19\n\nuse (\n\t{PORCUPINE_DRIVER}\n\t{Path(src).resolve()}\n)\n")
    exe = into / "porcupinedriver"
    env = {**os.environ, "GOWORK": str(work), "GOPROXY": "off", "GOFLAGS": ""}
    built = subprocess.run(
        [go, "build", "-o", str(exe), "."],
        cwd=PORCUPINE_DRIVER,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0:
        print(f"(porcupine driver did not build: {built.stderr.strip()})", file=sys.stderr)
        return None
    return exe


def porcupine_time(exe: Path, files: list[Path], runs: int) -> tuple[float, str]:
    """Median wall time of the porcupine driver over ``files``; its CPU time goes to ``CPU``."""
    return process_time([str(exe), *map(str, files)], runs)


def single_key_row(
    h: list[Op], what: str, stale: bool, goal: str, runs: int
) -> tuple[str, float, str, str]:
    t, out = median_time(lambda: check(h, "cas-register", timeout=60), runs)
    label = "one late stale read" if stale else "valid"
    name = f"generated 1 key, {sum(op.type == 'invoke' for op in h):,} ops, {what}, {label}"
    return (name, t, f"{out['valid']} ({out['algorithm']})", goal)


LONG_CASE = (100_000, 20, 5, 0.6, 0.02)
"""One key, 100,000 ops, 20 processes, values 0-4, 60% CAS, 2% indeterminate: the search's
memo must not grow with the history's length (it did, and said unknown after 0.7 s)."""


def shared_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    env = os.environ.get("SPLITBRAIN_SHARED")
    if env:
        return Path(env) / "histories" if (Path(env) / "histories").is_dir() else Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "histories"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--shared", default=None, help="directory holding verdicts.json")
    ap.add_argument(
        "--whole-command",
        action="store_true",
        help="only the rows that time the whole `splitbrain check` command",
    )
    ap.add_argument(
        "--porcupine",
        default=os.environ.get("PORCUPINE_SRC"),
        help="porcupine's source (a checkout), to run it beside the whole-command rows",
    )
    args = ap.parse_args()
    scratch = tempfile.TemporaryDirectory()
    porcupine = build_porcupine(args.porcupine, Path(scratch.name))
    load = os.getloadavg()
    base = shared_dir(args.shared)
    rows: list[tuple[str, float, Any, str]] = []
    in_process = not args.whole_command

    if (base / "verdicts.json").is_file() and in_process:
        etcd = [
            read_history(base / c["file"]).ops
            for c in json.loads((base / "verdicts.json").read_text())["cases"]
            if c["file"].startswith("porcupine/etcd/")
        ]
        t, out = median_time(lambda: [check(h, "cas-register")["valid"] for h in etcd], args.runs)
        rows.append(
            (f"porcupine etcd, all {len(etcd)} logs", t, f"{out.count(False)} invalid", "< 2 s")
        )
    if (base / "verdicts.json").is_file():
        files = [
            base / c["file"]
            for c in json.loads((base / "verdicts.json").read_text())["cases"]
            if c["file"].startswith("porcupine/etcd/") and read_history(base / c["file"]).ops
        ]
        t, word = command_time("cas-register", files, args.runs)
        rows.append(
            (f"porcupine etcd, {len(files)} logs, whole command", t, word, "<= porcupine's")
        )
        if porcupine is not None:
            t, word = porcupine_time(porcupine, files, args.runs)
            rows.append((f"  porcupine (Go) itself, {len(files)} etcd logs", t, word, ""))
    if (base / "verdicts.json").is_file() and in_process:
        for name in ("c50-ok", "c50-bad"):
            h = read_history(base / "porcupine" / "kv" / f"{name}.txt").ops
            t, out = median_time(lambda h=h: check(h, "kv", init=""), args.runs)
            rows.append((f"porcupine kv {name}", t, out["valid"], "< 1 s"))
    if not (base / "verdicts.json").is_file():
        print(f"(no fixtures at {base}; skipping porcupine cases)", file=sys.stderr)

    if in_process:
        big = generate_register_history(100_000, 50, 100, seed=3)
        t, out = median_time(lambda: check(big, "register"), args.runs)
        rows.append(
            (
                "generated 100,000 ops, 50 procs, 100 keys",
                t,
                f"{out['valid']} ({out['algorithm']})",
                "< 3 s",
            )
        )
    with tempfile.TemporaryDirectory() as tmp:
        for values, what in ((None, "unique values"), (100, "values 0-99")):
            path = Path(tmp) / "keyed.jsonl"
            ops = generate_register_history(100_000, 50, 100, seed=3, values=values)
            path.write_text("".join(op.to_json() + "\n" for op in ops), encoding="utf-8")
            t, word = command_time("cas-register", [path], args.runs)
            rows.append(
                (
                    f"generated 100,000 ops, 50 procs, 100 keys, {what}, whole command",
                    t,
                    word,
                    "<= porcupine's",
                )
            )
            if porcupine is not None:
                t, word = porcupine_time(porcupine, [path], args.runs)
                rows.append(("  porcupine (Go) itself, same file", t, word, ""))
            if values is None:
                for fmt, write in (("Jepsen EDN", _edn_line), ("Jepsen log", _log_line)):
                    other = Path(tmp) / f"keyed.{fmt[-3:].lower()}"
                    other.write_text("".join(write(op) for op in ops), encoding="utf-8")
                    t, word = command_time("cas-register", [other], args.runs)
                    rows.append((f"  the same as {fmt} ([k v] values), whole command", t, word, ""))
    for cas_ratio, what in SINGLE_KEY_CASES if in_process else []:
        for stale in (False, True):
            h = single_key(stale, cas_ratio)
            rows.append(single_key_row(h, f"20 procs{what}", stale, "< 5 s", args.runs))
    for processes, values, variants in REPEATED_CASES if in_process else []:
        for stale in variants:
            h = single_key(stale, processes=processes, values=values)
            name = f"{processes} procs, values 0-{values - 1}"
            rows.append(single_key_row(h, name, stale, "decided, < 10 s", args.runs))

    for processes, values in CRASHY_CASES if in_process else []:
        for stale in (False, True):
            h = single_key(stale, processes=processes, values=values, info_ratio=0.02)
            name = f"{processes} procs, values 0-{values - 1}, 2% info"
            rows.append(single_key_row(h, name, stale, "decided, < 10 s", args.runs))

    n, processes, values, cas_ratio, info = LONG_CASE
    for stale in (False, True) if in_process else ():
        h = single_key(stale, cas_ratio, processes, values, info, n=n, seed=11)
        name = f"{processes} procs, values 0-{values - 1}, 60% CAS, 2% info"
        rows.append(single_key_row(h, name, stale, "decided, < 10 s", args.runs))

    print(f"{'case':76} {'median s':>9} {'cpu s':>6}  {'verdict':30} goal")
    for (name, t, verdict, goal), cpu in zip(rows, CPU, strict=True):
        print(f"{name:76} {t:9.3f} {cpu:6.3f}  {str(verdict):30} {goal}")
    print(f"load average (1, 5, 15 min) at the start: {load}, at the end: {os.getloadavg()}")
    scratch.cleanup()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak:.0f} MB (goal for the single-key cases: < 2 GB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
