"""Real etcd and Redis clusters on namespace nodes: they serve, replicate, survive kill and
pause, fail over, and a node that cannot start is named with its log."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from real_helpers import leftovers, new_ctx

from conftest import eventually
from splitbrain.harness.base.history import Op
from splitbrain.harness.control.netns import LocalNetnsCluster
from splitbrain.harness.control.node import NodeStartError
from splitbrain.harness.nemesis.partition import PartitionNemesis
from splitbrain.harness.nemesis.process import KillNemesis, PauseNemesis
from splitbrain.targets.etcd import EtcdTarget
from splitbrain.targets.redis import RedisTarget

pytestmark = [pytest.mark.real, pytest.mark.timeout(120)]


def op(f: str, key: object = "k", value: object = None, process: int = 1) -> Op:
    return Op("invoke", f, process, value=value, key=key)


@pytest.fixture
def run_target(tmp_path: Path) -> Iterator:
    """Set up a target with options; always torn down, and nothing of it left."""
    made = []

    def make(target: EtcdTarget | RedisTarget, **options: str):
        ctx = new_ctx(tmp_path, **options)
        made.append((target, ctx))
        target.setup(ctx)
        return target, ctx

    yield make
    for target, ctx in made:
        target.teardown()
        assert leftovers(ctx.run_id, str(ctx.run_dir)) == []


def test_etcd_serves_put_range_cas_and_survives_kill_and_pause(run_target) -> None:
    target, ctx = run_target(EtcdTarget())
    assert target.nodes() == ["n1", "n2", "n3"]
    c = target.client(1)
    assert c.invoke(op("read")).value is None
    assert c.invoke(op("write", value=5)).type == "ok"
    assert c.invoke(op("cas", value=[5, 6])).type == "ok"
    assert c.invoke(op("cas", value=[5, 7])).type == "fail"
    assert c.invoke(op("cas", key="fresh", value=[None, 1])).type == "ok"
    other = target.client(2)
    assert other.invoke(op("read")).value == 6

    kill = KillNemesis()
    kill.setup(target, ctx)
    assert kill.invoke(Op("invoke", "kill", "nemesis", value="n2")).value == ["n2"]
    refused = c.invoke(op("write", value=8))
    assert refused.type == "fail" and "not sent" in refused.error
    assert eventually(lambda: other.invoke(op("write", value=9)).type == "ok"), (
        "n1 and n3 are a majority"
    )
    assert kill.invoke(Op("invoke", "start", "nemesis")).value == ["n2"]
    assert eventually(lambda: c.invoke(op("read")).value == 9)

    pause = PauseNemesis()
    pause.setup(target, ctx)
    pause.invoke(Op("invoke", "pause", "nemesis", value="n3"))
    stuck = target.client(2).invoke(op("write", value=10))
    assert stuck.type == "info", "a write to a paused member may have happened: info"
    pause.teardown()
    assert eventually(lambda: target.client(2).invoke(op("write", value=11)).type == "ok")
    c.close()
    other.close()


def test_etcd_serializable_reads_serve_from_a_minority(run_target, tmp_path: Path) -> None:
    target, ctx = run_target(EtcdTarget(), reads="serializable")
    writer = target.client(1)
    assert writer.invoke(op("write", value=1)).type == "ok"
    partition = PartitionNemesis("halves")
    partition.setup(target, ctx)
    try:
        partition.invoke(Op("invoke", "start-partition", "nemesis"))
        lonely = target.client(0)
        assert lonely.invoke(op("read")).value == 1
        assert lonely.invoke(op("write", value=2)).type in ("info", "fail")
    finally:
        partition.teardown()


def test_etcd_missing_binary_names_node_and_binary_and_tears_down(tmp_path: Path) -> None:
    """A command that is not there is the target's input (254), refused before any start."""
    target = EtcdTarget()
    ctx = new_ctx(tmp_path, **{"etcd-binary": "/nonexistent/etcd"})
    with pytest.raises(NodeStartError, match=r"^n1: etcd: no command /nonexistent/etcd on this"):
        try:
            target.setup(ctx)
        except NodeStartError as e:
            assert e.exit_code == 254
            raise
    target.teardown()
    assert leftovers(ctx.run_id, str(tmp_path)) == []
    assert not (tmp_path / "logs" / "n1" / "etcd.log").exists()


def test_etcd_port_in_use_names_node_and_log(tmp_path: Path) -> None:
    cluster = LocalNetnsCluster(f"test-{uuid.uuid4().hex[:12]}", 3)
    try:
        nodes = cluster.setup()
        squatter = f"import socket,time;s=socket.socket();s.bind(('{nodes[1].address}',2380));s.listen();time.sleep(60)"
        nodes[1].spawn("squatter", ["python3", "-c", squatter], tmp_path / "squatter.log")
        time.sleep(0.3)
        target = EtcdTarget(provider=cluster)
        ctx = new_ctx(tmp_path)
        ctx.run_id = cluster.run_id
        with pytest.raises(
            NodeStartError, match=r"n2: etcd exited while starting.*log: .*logs/n2/etcd.log"
        ) as excinfo:
            target.setup(ctx)
        assert "address already in use" in (tmp_path / "logs" / "n2" / "etcd.log").read_text()
        assert excinfo.value.exit_code == 255  # the environment's failure, not the input's
        target.teardown()
    finally:
        cluster.teardown()
    assert leftovers(cluster.run_id, str(tmp_path)) == []


def test_redis_replicates_and_replica_reads_work(run_target) -> None:
    target, _ = run_target(RedisTarget(), reads="replica")
    c = target.client(1)
    assert c.invoke(op("write", value=3)).node == "n1"
    assert c.invoke(op("cas", value=[3, 4])).type == "ok"
    assert c.invoke(op("cas", value=[3, 5])).type == "fail"
    assert eventually(lambda: c.invoke(op("read")).value == 4)
    assert c.invoke(op("read")).node != "n1"
    refused = c.invoke(op("add", key="counter", value=1))
    assert refused.type == "ok"


def test_redis_replica_refuses_writes_as_fail(run_target) -> None:
    from splitbrain.targets.redis import RedisClient

    target, _ = run_target(RedisTarget())
    replica = target.node("n2")
    client = RedisClient(replica.address, None, None, 0, {replica.address: "n2"})
    done = client.invoke(op("write", value=1))
    client.close()
    assert done.type == "fail" and "READONLY" in done.error


def test_sentinel_fails_over_when_the_primary_is_partitioned_away(run_target) -> None:
    target, ctx = run_target(RedisTarget(), failover="sentinel")
    majority_client = target.client(1)
    assert majority_client.invoke(op("write", value=1)).node == "n1"
    partition = PartitionNemesis()
    partition.setup(target, ctx)
    try:
        partition.partition({"n1": {"n2", "n3"}, "n2": {"n1"}, "n3": {"n1"}})
        assert eventually(
            lambda: majority_client.invoke(op("write", value=2)).node != "n1", timeout=20
        )
        lonely = target.client(0)
        assert lonely.invoke(op("write", value=3)).node == "n1", (
            "n1's sentinel still believes in n1"
        )
        partition.heal()
        assert eventually(lambda: lonely.invoke(op("write", value=4)).node != "n1", timeout=20)
    finally:
        partition.teardown()
