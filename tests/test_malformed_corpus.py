"""Every input of the generated malformed corpus (tests/malformed_corpus.py): exit 254, one
line naming the file (and the line, where there is one), no traceback, within a time bound
per input and a memory cap on the process that reads them all.

The inputs run in one child process, in turn through ``splitbrain``'s own ``main``, so that
hundreds of inputs take seconds; the child caps its address space with setrlimit before it
reads anything, and an alarm bounds each input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from malformed_corpus import Case, cases, mutants

from conftest import shared_histories

MEMORY_CAP = 1536 << 20
"""Address-space cap of the child: reading /dev/zero into memory would pass it at once."""
SECONDS_PER_INPUT = 10
PEAK_RSS_LIMIT_KB = 768 << 10

RUNNER = """
import contextlib, io, json, resource, signal, sys, time
cap, per_input = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from splitbrain.harness.front.cli import main

class Slow(Exception):
    pass

def alarm(signum, frame):
    raise Slow()

signal.signal(signal.SIGALRM, alarm)
for line in sys.stdin:
    case = json.loads(line)
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    signal.alarm(per_input)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(case["argv"])
    except Slow:
        code = "timeout"
    except BaseException as e:
        code = f"raised {type(e).__name__}: {e}"[:300]
    finally:
        signal.alarm(0)
    print(json.dumps({
        "name": case["name"], "code": code, "output": out.getvalue() + err.getvalue(),
        "seconds": time.monotonic() - started,
        "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }), flush=True)
"""


def _run_all(corpus: list[Case], cwd: Path) -> list[str]:
    """Run every case in one capped child; one line per case that was mishandled."""
    feed = "".join(json.dumps({"name": c.name, "argv": c.argv}) + "\n" for c in corpus)
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(MEMORY_CAP), str(SECONDS_PER_INPUT)],
        input=feed, capture_output=True, text=True, timeout=600, cwd=cwd,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = {r["name"]: r for r in map(json.loads, proc.stdout.splitlines())}
    assert len(results) == len(corpus), proc.stderr[-2000:]
    assert max(r["peak_kb"] for r in results.values()) < PEAK_RSS_LIMIT_KB
    failures = []
    for case in corpus:
        r = results[case.name]
        lines = [x for x in r["output"].splitlines() if x.strip()]
        expected = (0, 1, 2, 254) if case.code is None else (case.code,)
        bad_input = r["code"] == 254
        if (
            r["code"] not in expected
            or "Traceback" in r["output"]
            or r["seconds"] > SECONDS_PER_INPUT
            or (bad_input and (len(lines) != 1 or case.where not in lines[0]))
        ):
            failures.append(
                f"{case.name}: exit {r['code']}, {r['seconds']:.1f}s: {r['output'][:300]!r}"
            )
    return failures


def test_every_malformed_input_is_one_line_and_254(tmp_path: Path) -> None:
    corpus = cases(tmp_path / "corpus")
    failures = _run_all(corpus, tmp_path)
    assert failures == [], f"{len(failures)} of {len(corpus)} inputs mishandled:\n" + "\n".join(
        failures
    )
    print(f"{len(corpus)} malformed inputs handled")


def test_mutated_real_histories_never_crash(tmp_path: Path) -> None:
    try:
        root = shared_histories()
    except FileNotFoundError:
        pytest.skip("shared/histories not found")
    sources = sorted(p for p in root.rglob("*") if p.suffix in (".edn", ".txt", ".log", ".jsonl"))
    corpus = mutants(tmp_path / "mutants", sources[::7], count=300, seed=20)
    failures = _run_all(corpus, tmp_path)
    assert failures == [], f"{len(failures)} of {len(corpus)} mutants mishandled:\n" + "\n".join(
        failures
    )


FLOOD = """#!/usr/bin/env python3
import sys
sys.stdout.write('{"src": "n0", "dest": "c0", "body": {"type": "init_ok", "x": "')
while True:
    sys.stdout.write("a" * (1 << 20))
"""


@pytest.mark.real
def test_a_node_flooding_stdout_without_a_newline_is_cut_off(tmp_path: Path) -> None:
    """A Maelstrom node that writes without end and no newline grew the router by the
    whole line, scanning it again for each 64 KiB read; now it is killed at 16 MiB, and the
    one line says why, in seconds and bounded memory."""
    node = tmp_path / "flood.py"
    node.write_text(FLOOD)
    node.chmod(0o755)
    argv = [sys.executable, "-m", "splitbrain.harness.front.cli", "maelstrom", "test"]
    argv += ["-w", "echo", "--bin", str(node), "--node-count", "1", "--store", str(tmp_path)]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert r.returncode == 255, r.stdout + r.stderr
    (line,) = [x for x in r.stderr.splitlines() if x.startswith("splitbrain:")]
    assert "without a newline; killed" in line, line
    assert "Traceback" not in r.stderr
