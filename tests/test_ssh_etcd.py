"""The etcd register test on SSH nodes, with partitions, through the run engine: valid."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import ssh_fixtures
from ssh_fixtures import SshTestCluster

from splitbrain.harness.engine import core

pytestmark = [pytest.mark.ssh, pytest.mark.real, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshTestCluster]:
    with ssh_fixtures.running(tmp_path_factory, count=3) as cluster:
        yield cluster


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
    assert ssh_fixtures.leftovers(sshd) == []


def test_etcd_register_with_partitions_over_ssh_is_valid(
    sshd: SshTestCluster, tmp_path: Path
) -> None:
    result = core.run(_spec(tmp_path / "store", ssh=sshd.options().to_dict()))
    _check_run(result, sshd)
    assert "--nodes 10.77.0.201,10.77.0.202,10.77.0.203" in result.spec.command()


def _etcd_owners(seen: set[str], stop: threading.Event) -> None:
    while not stop.wait(0.2):
        ps = subprocess.run(["ps", "-eo", "user:32=,comm="], capture_output=True, text=True)
        seen.update(line.split()[0] for line in ps.stdout.splitlines() if line.endswith(" etcd"))


def test_etcd_register_over_ssh_as_a_sudo_user_is_valid(
    sshd: SshTestCluster, tmp_path: Path
) -> None:
    """The same run logged in as a user who is not root: servers, rules and logs via sudo."""
    owners: set[str] = set()
    stop = threading.Event()
    sampler = threading.Thread(target=_etcd_owners, args=(owners, stop))
    with ssh_fixtures.sudo_users() as (user, _):
        sampler.start()
        try:
            result = core.run(
                _spec(tmp_path / "store", ssh=sshd.options(user=user, sudo=True).to_dict())
            )
        finally:
            stop.set()
            sampler.join()
        _check_run(result, sshd)
    assert owners == {"root"}, f"etcd ran as {owners}, not as root through sudo"
    command = result.spec.command()
    assert f"--ssh-user {user}" in command and "--sudo" in command
