"""SshNode against real sshd servers in network namespaces: commands, quoting, host keys,
files, daemons, connection reuse."""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest
import ssh_fixtures
from ssh_fixtures import SshTestCluster

from conftest import eventually
from splitbrain.harness.base.protocols import HarnessInputError
from splitbrain.harness.control.node import Node, NodeError
from splitbrain.harness.control.ssh import SshCluster, SshHostKeyError, SshNode

pytestmark = [pytest.mark.ssh, pytest.mark.real, pytest.mark.timeout(180)]

HOSTILE = "two  spaces 'single' \"double\" $HOME ${{PATH}} `id -u` $(id -u) * ; touch {marker} && echo pwned"


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshTestCluster]:
    with ssh_fixtures.running(tmp_path_factory, count=2) as cluster:
        yield cluster
    assert not Path("/run/netns/sbssh-1").exists()


@pytest.fixture(scope="module")
def nodes(sshd: SshTestCluster) -> Iterator[list[SshNode]]:
    cluster = SshCluster(sshd.options())
    try:
        yield cluster.setup()
    finally:
        cluster.teardown()


@pytest.fixture
def remote_dir(nodes: list[SshNode]) -> Iterator[PurePosixPath]:
    path = PurePosixPath(f"/tmp/sbssh-test-{uuid.uuid4().hex[:8]}")
    yield path
    nodes[0].remove_tree(path)


def test_nodes_satisfy_the_node_protocol(nodes: list[SshNode], sshd: SshTestCluster) -> None:
    assert all(isinstance(n, Node) for n in nodes)
    assert [n.address for n in nodes] == sshd.addresses
    assert [n.interface for n in nodes] == ["sbssh-n1", "sbssh-n2"]
    assert {n.kind for n in nodes} == {"ssh"}


def test_commands_run_on_the_node_with_exit_codes_output_and_input(nodes: list[SshNode]) -> None:
    n1, n2 = nodes
    assert (
        n1.run(["ip", "-o", "-4", "addr", "show", "dev", "sbssh-n1"])
        .check()
        .stdout.count("10.77.0.201/24")
        == 1
    )
    assert "10.77.0.202/24" in n2.run(["ip", "-o", "-4", "addr", "show"]).stdout
    failed = n1.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (failed.returncode, failed.stdout, failed.stderr) == (3, "out\n", "err\n")
    with pytest.raises(NodeError, match=r"10\.77\.0\.201: .* exited 3: err"):
        failed.check()
    assert n1.run(["cat"], input="line one\nline two\n").stdout == "line one\nline two\n"
    assert n1.run(["no-such-command-sbssh"]).returncode == 127


def test_hostile_argument_reaches_the_command_exactly_and_runs_nothing(
    nodes: list[SshNode], tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    hostile = HOSTILE.format(marker=marker)
    n1 = nodes[0]
    echoed = n1.run(["printf", "%s", hostile]).check()
    assert echoed.stdout == hostile
    assert (
        n1.run(["echo", "a b", "; touch", str(marker)]).check().stdout == f"a b ; touch {marker}\n"
    )
    assert (
        n1.run(["sh", "-c", 'printf "%s|" "$@"', "sh", "x y", "$z", "`w`"]).stdout == "x y|$z|`w`|"
    )
    assert not n1.run(["test", "-e", str(marker)]).ok, "the `; touch` part ran on the node"
    assert not marker.exists()


def test_connection_is_opened_once_and_reused(nodes: list[SshNode]) -> None:
    n1 = nodes[0]
    assert n1._client is not None
    transport = n1._client.get_transport()
    for _ in range(5):
        n1.run(["true"]).check()
    assert n1._client.get_transport() is transport


def test_a_lost_connection_is_reopened_before_a_command_is_sent(sshd: SshTestCluster) -> None:
    cluster = SshCluster(sshd.options())
    node = cluster.setup()[0]
    try:
        assert node._client is not None
        first = node._client.get_transport()
        assert first is not None
        first.close()
        assert node.run(["echo", "again"]).check().stdout == "again\n"
        assert node._client.get_transport() is not first
    finally:
        cluster.teardown()


def test_a_command_that_outlives_its_timeout_is_killed_on_the_node(nodes: list[SshNode]) -> None:
    marker = f"sbssh-timeout-{uuid.uuid4().hex[:8]}"
    unique = str(uuid.uuid4().int % 10**9)
    n1 = nodes[0]
    result = n1.run(["sh", "-c", f"sleep 60.{unique} & sleep 61.{unique}; : {marker}"], timeout=0.5)
    assert result.returncode == 124
    pattern = f"[s]{marker[1:]}"
    assert not n1.run(["pgrep", "-f", pattern]).ok, "the timed-out command still runs on the node"
    assert not n1.run(["pgrep", "-x", "-f", f"sleep 6[01][.]{unique}"]).ok, "its children still run"


def test_wrong_host_key_is_refused_naming_the_host(sshd: SshTestCluster, tmp_path: Path) -> None:
    other = ssh_fixtures.keygen(tmp_path / "impostor", "impostor")
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"{sshd.addresses[0]} {other}\n")
    cluster = SshCluster(sshd.options(hosts=sshd.addresses[:1], known_hosts=str(known_hosts)))
    with pytest.raises(SshHostKeyError) as refused:
        cluster.setup()
    message = str(refused.value)
    assert "10.77.0.201" in message and "does not match" in message and str(known_hosts) in message
    assert isinstance(refused.value, HarnessInputError)


def test_unknown_host_key_is_refused(sshd: SshTestCluster, tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"10.77.0.219 {sshd.host_public_keys[1]}\n")
    cluster = SshCluster(sshd.options(hosts=sshd.addresses[1:], known_hosts=str(known_hosts)))
    with pytest.raises(SshHostKeyError, match=r"10\.77\.0\.202.*is not in .*known_hosts; refusing"):
        cluster.setup()
    missing = SshCluster(sshd.options(known_hosts=str(tmp_path / "absent")))
    with pytest.raises(SshHostKeyError, match="does not exist"):
        missing.setup()


def test_turning_host_key_checks_off_is_explicit_and_loud(
    sshd: SshTestCluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="splitbrain.ssh")
    cluster = SshCluster(
        sshd.options(
            hosts=sshd.addresses[:1], known_hosts=str(tmp_path / "absent"), no_host_key_check=True
        )
    )
    try:
        node = cluster.setup()[0]
        assert node.run(["true"]).ok
    finally:
        cluster.teardown()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("HOST KEY CHECKING IS OFF" in w and "10.77.0.201" in w for w in warnings)


def test_upload_and_download_over_sftp(
    nodes: list[SshNode], remote_dir: PurePosixPath, tmp_path: Path
) -> None:
    payload = os.urandom(300_000)
    local = tmp_path / "payload.bin"
    local.write_bytes(payload)
    remote = remote_dir / "deep" / "er" / "payload.bin"
    n1 = nodes[0]
    n1.upload(local, Path(remote))
    digest = n1.run(["sha256sum", str(remote)]).check().stdout.split()[0]
    assert digest == hashlib.sha256(payload).hexdigest()
    back = tmp_path / "back" / "payload.bin"
    n1.download(Path(remote), back)
    assert back.read_bytes() == payload
    with pytest.raises(NodeError, match=r"10\.77\.0\.201: download of .*/missing failed"):
        n1.download(Path(remote_dir / "missing"), tmp_path / "x")


def test_mkdir_and_remove_tree(nodes: list[SshNode], remote_dir: PurePosixPath) -> None:
    n1 = nodes[0]
    n1.mkdir(remote_dir / "a" / "b")
    assert n1.run(["test", "-d", str(remote_dir / "a" / "b")]).ok
    n1.remove_tree(remote_dir / "a")
    assert not n1.run(["test", "-e", str(remote_dir / "a")]).ok
    for shallow in ("/", "/tmp", "relative/path", "/tmp/.."):
        with pytest.raises(NodeError, match="refusing to remove"):
            n1.remove_tree(PurePosixPath(shallow))


def _state(node: SshNode, pid: int) -> str:
    return node.run(["ps", "-o", "stat=", "-p", str(pid)]).stdout.strip()


def test_daemon_spawn_signal_pause_stop(nodes: list[SshNode], remote_dir: PurePosixPath) -> None:
    n2 = nodes[1]
    log = Path(remote_dir / "logs" / "daemon.log")
    script = 'echo "started in $(pwd) as $1"; exec sleep 300'
    daemon = n2.spawn(
        "sleeper", ["sh", "-c", script, "sh", "arg with 'quotes'"], log, cwd=Path("/tmp")
    )
    try:
        assert daemon.pgid > 1 and n2.running(daemon)
        pgid = n2.run(["ps", "-o", "pgid=", "-p", str(daemon.pgid)]).check().stdout.strip()
        assert pgid == str(daemon.pgid), "the daemon leads its own process group"
        assert n2.run(["ip", "-o", "addr", "show", "dev", "sbssh-n2"]).ok
        assert eventually(lambda: "started in /tmp as arg with 'quotes'" in n2.read_text(Path(log)))
        n2.signal(daemon, signal.SIGSTOP)
        assert eventually(lambda: _state(n2, daemon.pgid).startswith("T"))
        n2.signal(daemon, signal.SIGCONT)
        assert eventually(lambda: _state(n2, daemon.pgid).startswith("S"))
        n2.signal(daemon, signal.SIGSTOP)
    finally:
        n2.stop(daemon)
    assert not n2.running(daemon)
    n2.signal(daemon, signal.SIGKILL)


def test_a_daemon_that_cannot_start_exits_with_its_reason_in_the_log(
    nodes: list[SshNode], remote_dir: PurePosixPath
) -> None:
    n1 = nodes[0]
    log = Path(remote_dir / "missing.log")
    daemon = n1.spawn("missing", ["/nonexistent/sbssh-server", "--flag"], log)
    assert eventually(lambda: not n1.running(daemon))
    assert "sbssh-server" in n1.read_text(log)
