"""SIGINT, SIGTERM and SIGHUP during a real etcd run under partition: exit 130, the verdict
printed as interrupted, and nothing left (namespaces, etcd processes, the bridge, the
partition chains, the journal, the node data), while the logs the report links to stay."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from real_helpers import leftovers

from conftest import REPO, eventually
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
