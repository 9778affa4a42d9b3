"""End to end against the in-process store: valid when correct, invalid when it lies."""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, run_cli
from splitbrain.harness.base.history import read_history
from splitbrain.harness.base.protocols import RunContext


def start_run(store: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "splitbrain.harness.front.cli",
            "test",
            "--store",
            str(store),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def wait_for_ops(history: Path, n: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if history.exists() and history.read_text().count("\n") >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"{history} never reached {n} ops")


def test_valid_run_writes_the_run_directory(tmp_path: Path) -> None:
    r = run_cli(
        "test", "--time-limit", "2", "--store", str(tmp_path), "--seed", "11", "--name", "smoke"
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "verdict: valid" in r.stdout
    for column in ("ok", "fail", "info", "median ms", "p99 ms"):
        assert column in r.stdout
    run_dir = (tmp_path / "latest").resolve()
    assert run_dir.parent.name == "smoke"
    assert str(run_dir) in r.stdout
    results = json.loads((run_dir / "results.json").read_text())
    assert results["valid"] is True
    assert results["checkers"]["linearizable"]["valid"] is True
    test = json.loads((run_dir / "test.json").read_text())
    assert test["seed"] == 11 and test["target"] == "memory" and "--seed 11" in test["command"]
    assert test["target_options"] == {"fault": "none", "fault-rate": "0.05"}  # defaults too
    assert (run_dir / "splitbrain.log").read_text()
    ops = read_history(run_dir / "history.jsonl").ops
    assert ops and [o.index for o in ops] == list(range(len(ops)))
    times = [o.time for o in ops]
    assert times == sorted(times)
    assert {o.f for o in ops} == {"read", "write", "cas"}


@pytest.mark.parametrize("fault", ["stale-reads", "lost-writes"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_faulty_store_is_found_invalid(tmp_path: Path, fault: str, seed: int) -> None:
    r = run_cli(
        "test",
        "--time-limit",
        "1.5",
        "--rate",
        "2000",
        "--store",
        str(tmp_path),
        "--seed",
        str(seed),
        "-o",
        f"fault={fault}",
    )
    assert r.returncode == 1, r.stdout + r.stderr
    assert "verdict: INVALID" in r.stdout
    results = json.loads((tmp_path / "latest" / "results.json").read_text())
    lin = results["checkers"]["linearizable"]
    assert lin["valid"] is False and lin["counterexample"]["op"]


def test_killed_run_leaves_a_checkable_history(tmp_path: Path) -> None:
    proc = start_run(tmp_path, "--time-limit", "60", "--rate", "500")
    try:
        history = tmp_path / "latest" / "history.jsonl"
        wait_for_ops(history, 200)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    r = run_cli("check", str(history), "--model", "cas-register")
    assert r.returncode == 0, r.stdout + r.stderr
    assert " valid " in r.stdout


def test_ctrl_c_tears_down_and_checks_what_was_recorded(tmp_path: Path) -> None:
    proc = start_run(tmp_path, "--time-limit", "60", "--rate", "500")
    try:
        wait_for_ops(tmp_path / "latest" / "history.jsonl", 200)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out + err
    assert "verdict: interrupted by SIGINT; valid over the" in out
    results = json.loads((tmp_path / "latest" / "results.json").read_text())
    assert results["interrupted"] == "SIGINT" and results["valid"] is True


def test_op_that_raises_is_info_and_process_is_retired(tmp_path: Path) -> None:
    from splitbrain.harness.engine import core
    from splitbrain.targets import memory

    class Flaky(memory.MemoryClient):
        calls = 0

        def invoke(self, op):  # noqa: ANN001, ANN201
            Flaky.calls += 1
            if Flaky.calls % 50 == 0:
                raise TimeoutError("simulated timeout")
            return super().invoke(op)

    original = memory.MemoryTarget.client
    memory.MemoryTarget.client = lambda self, p: Flaky(self.store)  # type: ignore[method-assign]
    try:
        result = core.run(core.TestSpec(time_limit=0.5, rate=1000, store=str(tmp_path), seed=5))
    finally:
        memory.MemoryTarget.client = original  # type: ignore[method-assign]
    infos = [o for o in result.history if o.type == "info"]
    assert infos and all("simulated timeout" in o.error for o in infos)
    for info in infos:
        later = [o for o in result.history if o.index > info.index and o.process == info.process]
        assert later == [], "a process whose op ended in info must not be used again"
    assert result.valid is True


def test_harness_sustains_an_unthrottled_run(tmp_path: Path) -> None:
    env = dict(os.environ)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "splitbrain.harness.front.cli",
            "test",
            "--time-limit",
            "1",
            "--concurrency",
            "10",
            "--rate",
            "0",
            "--store",
            str(tmp_path),
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["checkers"]["stats"]["count"] > 1000


@pytest.mark.parametrize("nemesis", ["pause", "kill", "kill,pause"])
def test_faults_are_healed_when_the_main_phase_ends(tmp_path: Path, nemesis: str) -> None:
    r = run_cli(
        "test",
        "--nemesis",
        nemesis,
        "--time-limit",
        "1.5",
        "--nemesis-interval",
        "0.25",
        "--op-timeout",
        "1",
        "--rate",
        "500",
        "--store",
        str(tmp_path),
        "--seed",
        "9",
        timeout=60,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    ops = read_history(tmp_path / "latest" / "history.jsonl").ops
    faults = [o for o in ops if o.process == "nemesis" and o.type != "invoke"]
    assert {"kill", "pause"} & {o.f for o in faults}
    last_by_kind = {}
    for o in faults:
        last_by_kind["kill" if o.f in ("kill", "start") else "pause"] = o.f
    assert set(last_by_kind.values()) <= {"start", "resume"}, last_by_kind
    final_reads = [o for o in ops if o.f == "read" and o.type == "ok" and o.time > faults[-1].time]
    assert final_reads, "the final phase runs after every fault is healed"


def test_a_fault_the_target_cannot_take_is_refused_before_the_run(tmp_path: Path) -> None:
    r = run_cli("test", "--nemesis", "partition", "--store", str(tmp_path))
    assert r.returncode == 254
    assert "target 'memory' cannot take nemesis 'partition'" in r.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("workload", "model"),
    [("register", "serializable"), ("list-append", "nosuch"), ("set", "register")],
)
def test_a_model_the_workload_cannot_check_is_refused(
    tmp_path: Path, workload: str, model: str
) -> None:
    r = run_cli("test", "--workload", workload, "--model", model, "--store", str(tmp_path))
    assert r.returncode == 254, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and model in r.stderr


def test_a_retired_process_keeps_its_worker_slot() -> None:
    ctx = RunContext("r", Path("."), 0, random.Random(0), logging.getLogger(), concurrency=5)
    assert [ctx.worker_of(p) for p in (0, 3, 5, 8, 13)] == [0, 3, 0, 3, 3]
    unknown = RunContext("r", Path("."), 0, random.Random(0), logging.getLogger())
    assert unknown.worker_of(7) == 7
