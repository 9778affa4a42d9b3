"""SIGINT, SIGTERM and SIGHUP during a real etcd run under partition: exit 130, the verdict
printed as interrupted, and nothing left (namespaces, etcd processes, the bridge, the
partition chains, the journal, the node data), while the logs the report links to stay."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from real_helpers import leftovers

from conftest import REPO, eventually
from splitbrain.harness.base import signals
from splitbrain.harness.control.netns import run_tag

pytestmark = pytest.mark.real


def _partitioned(run_dirs: list[Path]) -> bool:
    for run_dir in run_dirs:
        history = run_dir / "history.jsonl"
        if history.exists() and '"f": "start-partition"' in history.read_text():
            return True
    return False


def _iptables_chains() -> str:
    return subprocess.run(["iptables-save"], capture_output=True, text=True).stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signal_tears_down_a_partitioned_etcd_run(tmp_path: Path, sig: signal.Signals) -> None:
    store, journals = tmp_path / "store", tmp_path / "journals"
    env = os.environ | {"SPLITBRAIN_JOURNAL_DIR": str(journals)}
    argv = [sys.executable, "-m", "splitbrain.harness.front.cli", "test", "--target", "etcd"]
    argv += ["--nemesis", "partition", "--nemesis-interval", "1", "--time-limit", "30"]
    argv += ["--concurrency", "3", "--store", str(store)]
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert eventually(lambda: _partitioned([store / "latest"]), timeout=60), (
            "no partition started"
        )
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stdout, stderr = out.decode(), err.decode()
    assert proc.returncode == 130, stdout + stderr
    assert f"verdict: interrupted by {sig.name};" in stdout, stdout
    assert "Traceback" not in stderr
    run_dir = (store / "latest").resolve()
    test = json.loads((run_dir / "test.json").read_text())
    results = json.loads((run_dir / "results.json").read_text())
    assert results["interrupted"] == sig.name
    assert leftovers(test["identity"], str(run_dir)) == []
    assert run_tag(test["identity"]) not in _iptables_chains()
    assert list(journals.glob("*.journal")) == []
    assert not (run_dir / "nodes").exists()
    assert (run_dir / "logs" / "n1" / "etcd.log").stat().st_size > 0


def test_ctrl_c_during_setup_is_no_valid_verdict(tmp_path: Path) -> None:
    store, journals = tmp_path / "store", tmp_path / "journals"
    env = os.environ | {"SPLITBRAIN_JOURNAL_DIR": str(journals)}
    argv = [sys.executable, "-m", "splitbrain.harness.front.cli", "test", "--target", "etcd"]
    argv += ["--time-limit", "30", "--store", str(store)]
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert eventually(lambda: list(journals.glob("*.journal")), timeout=60)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stdout = out.decode()
    assert proc.returncode == 130, stdout + err.decode()
    assert "verdict: interrupted by SIGINT before any operation completed" in stdout
    assert "verdict: valid" not in stdout
    run_dir = (store / "latest").resolve()
    test = json.loads((run_dir / "test.json").read_text())
    assert leftovers(test["identity"], str(run_dir)) == []
    assert list(journals.glob("*.journal")) == []


def _signalled(
    argv: list[str], ready: Callable[[], object], sig: signal.Signals, env: dict[str, str]
) -> tuple[int, str, str]:
    """Run the CLI, send ``sig`` to its whole process group (as a terminal does) once
    ``ready()`` holds; its exit code, stdout and stderr."""
    cli = [sys.executable, "-m", "splitbrain.harness.front.cli", *argv]
    proc = subprocess.Popen(
        cli, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert eventually(ready, timeout=60, interval=0.002), "never ready"
        os.killpg(proc.pid, sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("delay", [0.0, 0.02])
def test_signal_while_the_maelstrom_router_starts(tmp_path: Path, delay: float) -> None:
    """A signal that lands while the router is forked once left logging's lock held (it ran
    in an at-fork hook, where its exception was dropped): the run hung, then died with a
    traceback. Now: 130, the verdict, no process of the run left."""
    store = tmp_path / "store"
    node = str(REPO / "tests" / "maelstrom_nodes" / "kv_proxy.py")
    argv = ["maelstrom", "test", "-w", "lin-kv", "--bin", node, "--node-count", "3"]
    argv += ["--time-limit", "20", "--store", str(store)]

    def router_starting() -> bool:
        if (store / "latest" / "logs").exists():
            time.sleep(delay)
            return True
        return False

    code, out, err = _signalled(argv, router_starting, signal.SIGINT, dict(os.environ))
    assert code == 130, out + err
    assert "verdict: interrupted by SIGINT" in out
    assert "Traceback" not in err and "Exception ignored" not in err, err
    run_dir = (store / "latest").resolve()
    assert (
        leftovers(json.loads((run_dir / "test.json").read_text())["identity"], str(run_dir)) == []
    )


def test_signal_while_checking_counts_the_operations_recorded(tmp_path: Path) -> None:
    """Interrupted while checking, the verdict line still says how many operations were
    recorded (it said "before any operation completed")."""
    store = tmp_path / "store"
    argv = ["test", "--workload", "list-append", "--rate", "0", "--time-limit", "1.5"]
    argv += ["--store", str(store)]
    log = store / "latest" / "splitbrain.log"

    def checking() -> bool:
        return log.exists() and "checking: " in log.read_text()

    code, out, err = _signalled(argv, checking, signal.SIGTERM, dict(os.environ))
    assert code == 130, out + err
    (line,) = [x for x in out.splitlines() if x.startswith("verdict: ")]
    assert line.startswith("verdict: interrupted by SIGTERM; unknown over the "), line
    assert int(line.split("over the ")[1].split()[0]) > 1000
    results = json.loads(((store / "latest").resolve() / "results.json").read_text())
    assert results["error"] == "checking was interrupted"


def test_a_postponed_signal_arrives_when_the_step_is_done() -> None:
    """``signals.postponed``: a signal inside the step raises nothing there, and raises
    ``Interrupted`` (naming it) as the step ends; outside ``interrupts()`` it would reach
    the handler in force before."""
    done = []
    with pytest.raises(signals.Interrupted) as raised, signals.interrupts():
        with signals.postponed():
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(0.01)
            done.append("step")
    assert done == ["step"]
    assert raised.value.signum == signal.SIGHUP
