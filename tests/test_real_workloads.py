"""The set, counter, queue and list-append workloads on real etcd and Redis clusters.

Healthy clusters, no faults: every workload the target runs is valid (4 s runs). Under
faults: etcd's list-append transactions stay strict-serializable under partitions; Redis
with Sentinel loses acknowledged set elements when the primary is partitioned away; and
redis-py's automatic retry (``-o client-retries=3``) applies increments twice when the
primary stalls, which the counter checker sees as reads above every possible sum, while
the same schedule without retries stays valid (the timed-out increments are ``info``).

The last one pauses the primary rather than partitioning: clients run in the host's
namespace and partitions drop only node-to-node traffic, so a partition never makes a
client time out, and without a timeout there is no retry. With seed 15 the pause nemesis
picks n1 (the primary) every time; the test checks that it did.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from real_helpers import leftovers

from splitbrain.harness.engine import core

pytestmark = [pytest.mark.real, pytest.mark.timeout(120)]


def spec(
    tmp_path: Path,
    target: str,
    workload: str,
    nemesis: list[str] | None = None,
    time_limit: float = 4,
    interval: float = 3,
    seed: int = 42,
    **options: str,
) -> core.TestSpec:
    return core.TestSpec(
        target=target, workload=workload, nemesis=nemesis or [], concurrency=10,
        time_limit=time_limit, rate=100, keys=4, seed=seed, store=str(tmp_path / "store"),
        options=dict(options), nemesis_interval=interval,
    )  # fmt: skip


def run_checked(s: core.TestSpec) -> core.RunResult:
    """Run, and check that nothing of the run is left."""
    result = core.run(s)
    test = json.loads((result.run_dir / "test.json").read_text())
    assert leftovers(test["identity"], str(result.run_dir)) == [], test["command"]
    return result


def completed(result: core.RunResult, f: str, typ: str = "ok") -> list:
    return [op for op in result.history if op.is_client and op.f == f and op.type == typ]


def nemesis_values(result: core.RunResult, f: str) -> list:
    return [op.value for op in result.history if not op.is_client and op.f == f]


HEALTHY = [
    ("etcd", "set", ("add", "read")),
    ("etcd", "counter", ("add", "read")),
    ("etcd", "list-append", ("txn",)),
    ("redis", "set", ("add", "read")),
    ("redis", "counter", ("add", "read")),
    ("redis", "queue", ("enqueue", "dequeue", "drain")),
    ("redis", "list-append", ("txn",)),
]


@pytest.mark.parametrize(("target", "workload", "fs"), HEALTHY)
def test_workload_is_valid_on_a_healthy_cluster(
    tmp_path: Path, target: str, workload: str, fs: tuple[str, ...]
) -> None:
    result = run_checked(spec(tmp_path, target, workload))
    for f in fs:
        assert completed(result, f), f"no {f} completed ok"
    assert result.valid is True, result.results


def test_redis_list_append_reads_of_replicas_see_the_primarys_transactions(tmp_path: Path) -> None:
    result = run_checked(spec(tmp_path, "redis", "list-append", reads="replica"))
    read_only = [op for op in completed(result, "txn") if all(m[0] == "r" for m in op.value)]
    assert {op.node for op in read_only} == {"n2", "n3"}
    assert any(m[2] for op in read_only for m in op.value), "replicas never showed an append"


def test_etcd_refuses_the_queue_workload_before_starting(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "splitbrain.harness.front.cli", "test", "--target", "etcd", "--workload",
            "queue", "--time-limit", "1", "--store", str(tmp_path / "store")]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 254, done.stderr
    assert "target 'etcd' does not implement 'dequeue', which workload 'queue' needs" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list((tmp_path / "store").glob("*/*/nodes"))


def test_etcd_list_append_is_strict_serializable_under_partition(tmp_path: Path) -> None:
    s = spec(tmp_path, "etcd", "list-append", ["partition"], time_limit=12, interval=3)
    result = run_checked(s)
    assert nemesis_values(result, "start-partition")
    assert len(completed(result, "txn")) > 100
    assert result.results["checkers"]["elle"]["model"] == "strict-serializable"
    assert result.valid is True, result.results


def test_redis_sentinel_failover_loses_acknowledged_set_elements(tmp_path: Path) -> None:
    s = spec(tmp_path, "redis", "set", ["partition-halves"], time_limit=10, interval=4,
             failover="sentinel")  # fmt: skip
    result = run_checked(s)
    adders = {op.node for op in completed(result, "add")}
    assert {"n1"} < adders, "adds should reach the old primary and a new one"
    set_full = result.results["checkers"]["set-full"]
    assert set_full["valid"] is False
    assert set_full["lost_count"] > 0


def test_redis_client_retries_apply_increments_twice(tmp_path: Path) -> None:
    result = run_paused_counter(tmp_path, retries=3)
    counter = result.results["checkers"]["counter"]
    assert counter["valid"] is False
    above = [e for e in counter["errors"] if e["value"] > e["upper"]]
    assert above, counter["errors"][:5]


def test_redis_counter_without_retries_stays_valid_under_the_same_pauses(tmp_path: Path) -> None:
    result = run_paused_counter(tmp_path, retries=0)
    assert completed(result, "add", "info"), "some increments should have timed out"
    assert result.valid is True, result.results


def run_paused_counter(tmp_path: Path, retries: int) -> core.RunResult:
    """Seed 15 makes the pause nemesis pick n1, the primary, every time."""
    s = spec(tmp_path, "redis", "counter", ["pause"], time_limit=8, interval=2, seed=15,
             **{"client-retries": str(retries)})  # fmt: skip
    result = run_checked(s)
    assert ["n1"] in nemesis_values(result, "pause"), "the primary should have been paused"
    return result
