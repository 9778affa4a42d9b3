"""A run on SSH nodes killed with SIGKILL: ``splitbrain cleanup`` undoes on the remote
machines exactly what the run journaled (servers, iptables chains, directories), and
nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import ssh_fixtures
from ssh_fixtures import SshTestCluster

from splitbrain.harness.control.journal import JOURNAL_DIR_ENV
from splitbrain.harness.control.remote_undo import leftovers, ssh_journal_dir
from splitbrain.harness.control.ssh import SshCluster
from splitbrain.harness.control.sshopts import command_args

pytestmark = [pytest.mark.ssh, pytest.mark.real, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshTestCluster]:
    with ssh_fixtures.running(tmp_path_factory, count=3) as cluster:
        yield cluster


def _cleanup(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "splitbrain.harness.front.cli", "cleanup"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _wait_for_partition(store: Path, timeout: float) -> Path:
    """The run's history once a partition has been injected."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for history in store.glob("*/*/history.jsonl"):
            for line in history.read_text().splitlines():
                if '"start-partition"' in line and '"info"' in line:
                    return history
        time.sleep(0.2)
    raise AssertionError(f"no partition within {timeout}s")


def test_sigkilled_ssh_run_is_undone_by_cleanup_and_nothing_else(
    sshd: SshTestCluster, tmp_path: Path
) -> None:
    env = {**os.environ, JOURNAL_DIR_ENV: str(tmp_path / "journals")}
    ns1 = ssh_fixtures.namespace(1)
    decoy = subprocess.Popen(["ip", "netns", "exec", ns1, "sleep", "600"])
    ssh_fixtures.ip("netns", "exec", ns1, "iptables", "-w", "-N", "sbdecoy")
    store = tmp_path / "store"
    argv = [sys.executable, "-m", "splitbrain.harness.front.cli", "test", "--target", "etcd", "--nemesis",
            "partition", "--nemesis-interval", "1", "--time-limit", "120", "--rate", "20",
            "--store", str(store), "--seed", "5", *command_args(sshd.options().to_dict())]  # fmt: skip
    log = (tmp_path / "run.log").open("wb")
    run = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        history = _wait_for_partition(store, timeout=120)
    finally:
        run.kill()
        run.wait(10)
    try:
        node_dirs = sorted((history.parent / "nodes").iterdir())
        assert [d.name for d in node_dirs] == sshd.addresses
        left = ssh_fixtures.leftovers(sshd, keep=frozenset({decoy.pid}))
        assert sum("etcd" in x for x in left) == 3, left
        assert any("sbpart" in x for x in left), left
        [journal] = ssh_journal_dir(tmp_path / "journals").glob("*.journal")
        pending = leftovers(journal).steps
        assert {s.host for s in pending} == set(sshd.addresses)

        cleaned = _cleanup(env)
        assert cleaned.returncode == 0, cleaned.stderr
        for address in sshd.addresses:
            assert f"undid {address}: daemon etcd" in cleaned.stdout
            assert f"undid {address}: iptables chain sbpart-" in cleaned.stdout
        assert ssh_fixtures.leftovers(sshd, keep=frozenset({decoy.pid})) == []
        assert not any(d.exists() for d in node_dirs)
        assert not journal.exists()
        assert decoy.poll() is None, "cleanup killed a process the run did not start"
        chains = ssh_fixtures.ip("netns", "exec", ns1, "iptables", "-w", "-S").stdout
        assert "-N sbdecoy" in chains, "cleanup removed a chain the run did not create"
        again = _cleanup(env)
        assert again.returncode == 0 and "cleaned up 0 leftover run(s)" in again.stdout
    finally:
        decoy.kill()
        decoy.wait(5)
        ssh_fixtures.ip("netns", "exec", ns1, "iptables", "-w", "-X", "sbdecoy", check=False)


def test_a_journaled_daemon_is_killed_only_if_its_pid_was_not_reused(
    sshd: SshTestCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(JOURNAL_DIR_ENV, str(tmp_path / "journals"))
    cluster = SshCluster(sshd.options(hosts=sshd.addresses[:1]))
    node = cluster.setup()[0]
    try:
        daemon = node.spawn("sleeper", ["sleep", "600"], tmp_path / "sleeper.log")
        assert cluster.journal is not None and cluster.journal.path is not None
        journal = cluster.journal.path
        [step] = leftovers(journal).steps
        [command] = step.commands
        assert command[-2] == str(daemon.pgid) and command[-1].isdigit()
        not_it = [*command[:-1], str(int(command[-1]) + 1)]
        assert node.run(not_it).ok
        assert node.running(daemon), "a process with another start time was killed"
        assert node.run(command).ok
        deadline = time.monotonic() + 10
        while node.running(daemon) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not node.running(daemon)
        node.stop(daemon)
        assert leftovers(journal).steps == []
    finally:
        cluster.teardown()
    assert not journal.exists(), "a journal with nothing left to undo is removed"
    assert journal.parent == ssh_journal_dir(tmp_path / "journals")
