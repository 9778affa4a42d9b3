"""Local namespace clusters, their journal and cleanup, and the network nemeses on them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from real_helpers import (
    NodesTarget,
    leftovers,
    new_ctx,
    reachability,
    start_listeners,
    wait_listening,
)

from splitbrain.harness.base.history import Op
from splitbrain.harness.control.journal import read_entries
from splitbrain.harness.control.netns import LocalNetnsCluster, cleanup_stale, netns_exists, run_tag
from splitbrain.harness.nemesis.clock import ClockNemesis
from splitbrain.harness.nemesis.errors import NemesisUnsupported
from splitbrain.harness.nemesis.grudge import GRUDGES
from splitbrain.harness.nemesis.packet import PacketNemesis
from splitbrain.harness.nemesis.partition import PartitionNemesis

pytestmark = [pytest.mark.real, pytest.mark.timeout(120)]


@pytest.fixture
def journal_dir(tmp_path: Path) -> Path:
    return tmp_path / "journals"


@pytest.fixture
def cluster(journal_dir: Path) -> Iterator[LocalNetnsCluster]:
    c = LocalNetnsCluster(f"test-{uuid.uuid4().hex[:12]}", 3, journal_directory=journal_dir)
    try:
        c.setup()
        yield c
    finally:
        c.teardown()
        assert leftovers(c.run_id) == []


def test_setup_gives_namespaced_nodes_and_teardown_leaves_nothing(
    journal_dir: Path, tmp_path: Path
) -> None:
    c = LocalNetnsCluster(f"test-{uuid.uuid4().hex[:12]}", 3, journal_directory=journal_dir)
    try:
        nodes = c.setup()
        assert [n.name for n in nodes] == ["n1", "n2", "n3"]
        assert all(n.address.startswith("10.77.0.") for n in nodes)
        assert len({n.address for n in nodes}) == 3
        assert all(len(n.interface) <= 15 for n in nodes) and len(c.bridge) <= 15
        assert all(netns_exists(n.namespace) and c.tag in n.namespace for n in nodes)
        routes = nodes[0].run(["ip", "route"]).check().stdout
        assert "default" not in routes
        start_listeners(nodes, tmp_path)
        wait_listening(nodes)
        assert len(leftovers(c.run_id)) >= 3 + 4
    finally:
        c.teardown()
    assert leftovers(c.run_id) == []
    assert list(journal_dir.glob("*.journal")) == []


SETUP_AND_HANG = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from splitbrain.harness.control.netns import LocalNetnsCluster
    c = LocalNetnsCluster(sys.argv[1], 3, journal_directory=Path(sys.argv[2]))
    nodes = c.setup()
    for n in nodes:
        n.spawn("sleeper", ["sleep", "300"], Path(sys.argv[2]) / f"{n.name}.log")
    print("ready", flush=True)
    time.sleep(300)
    """
)


def wait_for_pids(namespace: str, timeout: float = 10.0) -> list[str]:
    """PIDs in ``namespace``; ``ip netns exec`` enters it a moment after it is spawned."""
    deadline = time.monotonic() + timeout
    while True:
        out = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True)
        if out.stdout.split() or time.monotonic() > deadline:
            return out.stdout.split()
        time.sleep(0.05)


def test_cleanup_after_sigkill_removes_everything(journal_dir: Path) -> None:
    run_id = f"test-{uuid.uuid4().hex[:12]}"
    proc = subprocess.Popen(
        [sys.executable, "-c", SETUP_AND_HANG, run_id, str(journal_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        journals = list(journal_dir.glob("*.journal"))
        assert len(journals) == 1
        kinds = [e["kind"] for e in read_entries(journals[0])]
        assert kinds.count("netns") == 3 and "owner" in kinds
        assert netns_exists(f"sb-{run_tag(run_id)}-n1")
        assert wait_for_pids(f"sb-{run_tag(run_id)}-n2"), (
            "the daemon of the killed run should still be running"
        )
    finally:
        proc.kill()
        removed = cleanup_stale(journal_dir)
    assert any("namespace" in r for rs in removed.values() for r in rs)
    assert leftovers(run_id) == []
    assert list(journal_dir.glob("*.journal")) == []


def test_cleanup_leaves_a_live_run_alone(cluster: LocalNetnsCluster, journal_dir: Path) -> None:
    assert cleanup_stale(journal_dir) == {}
    assert all(netns_exists(n.namespace) for n in cluster.nodes)


def expected_reachability(
    grudge: dict[str, set[str]], names: list[str]
) -> dict[tuple[str, str], bool]:
    """A TCP connect a -> b works only if b accepts a's packets and a accepts b's answers."""
    return {
        (a, b): a not in grudge.get(b, set()) and b not in grudge.get(a, set())
        for a in names
        for b in names
        if a != b
    }


@pytest.mark.parametrize("grudge_name", ["halves", "bridge"])
def test_partition_drops_only_between_chosen_nodes_and_heal_restores(
    cluster: LocalNetnsCluster, tmp_path: Path, grudge_name: str
) -> None:
    start_listeners(cluster.nodes, tmp_path)
    wait_listening(cluster.nodes)
    ctx = new_ctx(tmp_path)
    ctx.run_id = cluster.run_id
    nemesis = PartitionNemesis(grudge_name)
    nemesis.setup(NodesTarget(cluster), ctx)
    try:
        done = nemesis.invoke(Op("invoke", "start-partition", "nemesis"))
        assert done.type == "info"
        grudge = {n: set(d) for n, d in done.value["drops"].items()}
        assert grudge, "a partition must cut something"
        names = [n.name for n in cluster.nodes]
        assert reachability(cluster.nodes) == expected_reachability(grudge, names)
        nemesis.invoke(Op("invoke", "stop-partition", "nemesis"))
        assert all(reachability(cluster.nodes).values())
        import socket

        for n in cluster.nodes:
            socket.create_connection((n.address, 7700), timeout=2).close()
    finally:
        nemesis.teardown()
    rules = cluster.nodes[0].run(["iptables", "-S"]).check().stdout
    assert "sbpart" not in rules


def test_every_grudge_is_a_partition_of_known_nodes() -> None:
    import random

    for n in (3, 5):
        names = [f"n{i}" for i in range(1, n + 1)]
        for name, make in GRUDGES.items():
            grudge = make(names, random.Random(1))
            assert set(grudge) <= set(names), name
            assert any(grudge.values()), name
            assert all(node not in drops for node, drops in grudge.items()), name


def test_packet_loss_drops_and_stop_restores(cluster: LocalNetnsCluster, tmp_path: Path) -> None:
    start_listeners(cluster.nodes, tmp_path)
    wait_listening(cluster.nodes)
    ctx = new_ctx(tmp_path)
    ctx.run_id = cluster.run_id
    nemesis = PacketNemesis(("loss",), loss=1.0)
    nemesis.setup(NodesTarget(cluster), ctx)
    try:
        nemesis.invoke(Op("invoke", "start-packet", "nemesis", value=["n2"]))
        reach = reachability(cluster.nodes)
        assert not reach[("n1", "n2")] and not reach[("n3", "n2")]
        assert reach[("n1", "n3")] and reach[("n3", "n1")]
        nemesis.invoke(Op("invoke", "stop-packet", "nemesis"))
        assert all(reachability(cluster.nodes).values())
    finally:
        nemesis.teardown()
    assert "sbpkt" not in cluster.nodes[1].run(["iptables", "-S"]).check().stdout


def test_packet_delay_is_refused_naming_netem(cluster: LocalNetnsCluster, tmp_path: Path) -> None:
    has_netem = (
        cluster.nodes[0]
        .run(["tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"])
        .ok
    )
    if has_netem:
        pytest.skip("this kernel has netem")
    ctx = new_ctx(tmp_path)
    with pytest.raises(NemesisUnsupported, match=r"delay needs tc netem.*sch_netem.*does not have"):
        PacketNemesis(("delay",)).setup(NodesTarget(cluster), ctx)


def test_clock_nemesis_refuses_on_local_nodes(cluster: LocalNetnsCluster, tmp_path: Path) -> None:
    target = NodesTarget(cluster, name="etcd")
    with pytest.raises(NemesisUnsupported, match="Go reads the time"):
        ClockNemesis().setup(target, new_ctx(tmp_path))
    target.name = "redis"
    with pytest.raises(NemesisUnsupported, match="redis-server hangs at start"):
        ClockNemesis().setup(target, new_ctx(tmp_path))
