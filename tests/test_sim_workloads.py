"""The sim target under issue 9's workloads, through the CLI: leader-sync is strict-serializable
for list-append and loses no set element; leader-async loses acknowledged set elements under
partition or kill and shows transactional anomalies; leaderless refuses transactions.

Seeds are fixed. Rates measured over seeds 0-9 of each exact configuration:
  leader-sync list-append, partition,kill, 10 s: strict-serializable 10/10
  leader-sync set, partition,kill, 10 s: no element lost 10/10
  leader-async set, partition, 20 s at 500 ops/s: elements lost 10/10 (13/20 at 10 s)
  leader-async set, kill of the leader, 10 s at 500 ops/s: elements lost 10/10
  leader-async list-append, partition, 20 s: anomalies found 7/10
  leader-sync counter, partition,kill, 10 s: valid 10/10
  leader-sync queue, partition,kill, 10 s: nothing duplicated or unexpected 10/10; messages
    "lost" in 6/10, never more than the dequeues whose outcome is unknown (info)
The rate limit keeps the set small: every read returns the whole set.
Convergence after heal for every mode is in test_eventual.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import run_cli, sim_test
from splitbrain.harness.base import store
from splitbrain.harness.base.history import read_history


def completions(run_dir: Path, f: str) -> list[Any]:
    ops = read_history(store.history_path(run_dir)).ops
    return [op for op in ops if op.f == f and op.type != "invoke"]


def faults_ran(run_dir: Path) -> set[str]:
    ops = read_history(store.history_path(run_dir)).ops
    return {op.f for op in ops if op.process == "nemesis" and op.type == "info"}


def test_leader_sync_list_append_is_strict_serializable_under_partition_and_kill(
    tmp_path: Path,
) -> None:
    code, results, run_dir = sim_test(tmp_path, "leader-sync", "list-append", "partition,kill", 0)
    elle = results["checkers"]["elle"]
    assert code == 0 and results["valid"] is True, elle
    assert elle["model"] == "strict-serializable" and elle["anomaly_types"] == []
    txns = completions(run_dir, "txn")
    assert sum(op.type == "ok" for op in txns) > 1000
    reads = [m for op in txns if op.type == "ok" for m in op.value if m[0] == "r" and m[2]]
    assert reads, "transactions read non-empty lists"
    assert {"start-partition", "kill"} <= faults_ran(run_dir)


def test_leader_sync_loses_no_set_element_under_partition_and_kill(tmp_path: Path) -> None:
    code, results, run_dir = sim_test(tmp_path, "leader-sync", "set", "partition,kill", 0)
    full = results["checkers"]["set-full"]
    assert code == 0 and full["valid"] is True, full
    assert full["lost_count"] == 0 and full["acknowledged_count"] > 1000
    assert {"start-partition", "kill"} <= faults_ran(run_dir)


def test_leader_sync_counter_reads_stay_within_bounds(tmp_path: Path) -> None:
    code, results, _ = sim_test(tmp_path, "leader-sync", "counter", "partition,kill", 0)
    counter = results["checkers"]["counter"]
    assert code == 0 and counter["valid"] is True and counter["errors"] == []
    assert counter["reads"] > 500 and counter["acknowledged_sum"] > 1000


def test_leader_sync_queue_loses_only_what_unknown_dequeues_took(tmp_path: Path) -> None:
    _, results, run_dir = sim_test(tmp_path, "leader-sync", "queue", "partition,kill", 3)
    queue = results["checkers"]["total-queue"]
    assert queue["duplicated_count"] == 0 and queue["unexpected_count"] == 0
    unknown = [op for op in completions(run_dir, "dequeue") if op.type == "info"]
    assert 0 < queue["lost_count"] <= len(unknown)
    drains = [op for op in completions(run_dir, "drain") if op.type == "ok"]
    assert len(drains) == 1 and isinstance(drains[0].value, list)


def test_leader_async_loses_set_elements_under_partition(tmp_path: Path) -> None:
    code, results, _ = sim_test(
        tmp_path, "leader-async", "set", "partition", 0, "--rate", "500", time_limit=20
    )
    full = results["checkers"]["set-full"]
    assert code == 1 and full["valid"] is False
    assert full["lost_count"] > 0 and len(full["lost"]) > 0


def test_leader_async_loses_set_elements_under_kill(tmp_path: Path) -> None:
    code, results, _ = sim_test(
        tmp_path, "leader-async", "set", "kill", 0, "--rate", "500", "-o", "kill=leader"
    )
    full = results["checkers"]["set-full"]
    assert code == 1 and full["valid"] is False
    assert full["lost_count"] > 0 and len(full["lost"]) > 0


def test_leader_async_list_append_shows_anomalies_under_partition(tmp_path: Path) -> None:
    code, results, _ = sim_test(
        tmp_path, "leader-async", "list-append", "partition", 1, time_limit=20
    )
    elle = results["checkers"]["elle"]
    assert code == 1 and elle["valid"] is False
    assert elle["anomaly_types"] and "strict-serializable" in elle["not"] + elle["also_not"]


def test_leaderless_refuses_what_it_cannot_serve_before_the_run(tmp_path: Path) -> None:
    for workload, model, said in (
        ("list-append", None, "cannot run workload 'list-append'"),
        ("queue", None, "cannot run workload 'queue'"),
        ("set", None, "cannot run workload 'set'"),
        ("register", None, "has no compare-and-set"),
    ):
        argv = ["test", "--target", "sim", "-o", "replication=leaderless", "--workload", workload]
        argv += ["--store", str(tmp_path / workload)] + (["--model", model] if model else [])
        r = run_cli(*argv)
        assert r.returncode == 254, r.stdout + r.stderr
        assert said in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert not (tmp_path / workload).exists()


def test_small_cluster_defaults_fit_without_options_the_user_never_set(tmp_path: Path) -> None:
    code, results, _ = sim_test(
        tmp_path, "leader-sync", "register", "none", 0, "-o", "nodes=2", time_limit=2
    )
    assert code == 0, results
    code, results, _ = sim_test(
        tmp_path / "ll",
        "leaderless",
        "register",
        "none",
        0,
        "-o",
        "nodes=1",
        "--model",
        "register",
        time_limit=2,
    )
    assert code == 0, results
