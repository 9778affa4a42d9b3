"""The etcd register test on SSH nodes, with partitions, through the run engine: valid."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import ssh_fixtures
from ssh_fixtures import SshTestCluster

from harness import core

pytestmark = [pytest.mark.ssh, pytest.mark.real, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshTestCluster]:
    cluster = ssh_fixtures.start(tmp_path_factory.mktemp("sshd"), count=3)
    try:
        yield cluster
    finally:
        ssh_fixtures.stop(cluster)


def _spec(store: Path, **extra: object) -> core.TestSpec:
    return core.TestSpec(
        target="etcd",
        workload="register",
        nemesis=["partition"],
        concurrency=4,
        time_limit=8.0,
        rate=40.0,
        keys=3,
        seed=11,
        store=str(store),
        nemesis_interval=2.0,
        final_time_limit=10.0,
        **extra,  # type: ignore[arg-type]
    )


def _leftovers(sshd: SshTestCluster) -> list[str]:
    """etcd processes and iptables chains of the run still in the test's namespaces."""
    found = []
    for i in range(1, sshd.count + 1):
        ns = ssh_fixtures.namespace(i)
        for pid in ssh_fixtures.ip("netns", "pids", ns).stdout.split():
            comm = Path(f"/proc/{pid}/comm")
            if comm.exists() and comm.read_text().strip() != "sshd":
                found.append(f"{ns}: process {pid} {comm.read_text().strip()}")
        rules = subprocess.run(
            ["ip", "netns", "exec", ns, "iptables", "-w", "-S"], capture_output=True, text=True
        ).stdout
        found += [f"{ns}: {r}" for r in rules.splitlines() if "sbpart" in r]
    return found


def _check_run(result: core.RunResult, sshd: SshTestCluster) -> None:
    assert result.valid is True, result.results
    ops = result.history
    partitions = [
        o for o in ops if o.process == "nemesis" and o.f == "start-partition" and o.type != "invoke"
    ]
    assert partitions and all(o.value["drops"] for o in partitions), "no partition was injected"
    nodes_used = {o.node for o in ops if o.type == "ok"}
    assert nodes_used <= set(sshd.addresses) and len(nodes_used) >= 2
    assert sum(1 for o in ops if o.type == "ok") >= 50
    assert (result.run_dir / "logs" / "10.77.0.201" / "etcd.log").stat().st_size > 0
    assert _leftovers(sshd) == []


def test_etcd_register_with_partitions_over_ssh_is_valid(
    sshd: SshTestCluster, tmp_path: Path
) -> None:
    result = core.run(_spec(tmp_path / "store", ssh=sshd.options().to_dict()))
    _check_run(result, sshd)
    assert "--nodes 10.77.0.201,10.77.0.202,10.77.0.203" in result.spec.command()
