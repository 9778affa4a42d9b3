"""The eventual workload: after heal, every node read directly holds the same state."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli, sim_test


@pytest.mark.parametrize("mode", ["leader-sync", "leader-async", "multi-leader", "leaderless"])
def test_every_sim_mode_converges_after_heal(tmp_path: Path, mode: str) -> None:
    code, results, _ = sim_test(tmp_path, mode, "eventual", "partition,kill", 2)
    assert code == 0, results
    result = results["checkers"]["convergence"]
    assert result["valid"] is True and len(result["nodes"]) == 5 and result["keys"] > 0


def test_memory_store_converges(tmp_path: Path) -> None:
    r = run_cli("test", "--workload", "eventual", "--time-limit", "0.5", "--store", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr


def test_targets_that_cannot_read_each_node_are_refused(tmp_path: Path) -> None:
    r = run_cli("test", "--target", "etcd", "--workload", "eventual", "--store", str(tmp_path))
    assert r.returncode == 254
    assert (
        "target 'etcd' does not implement 'read-node', which workload 'eventual' needs" in r.stderr
    )
