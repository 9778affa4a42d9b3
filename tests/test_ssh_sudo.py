"""``--sudo`` against a real sudo: a non-root SSH user whose commands, files and daemons
act as root, and a user without sudo rights who gets a clear refusal."""

from __future__ import annotations

import hashlib
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest
import ssh_fixtures
from ssh_fixtures import SshTestCluster

from conftest import eventually
from splitbrain.harness.control.node import NodeError
from splitbrain.harness.control.ssh import SshCluster, SshNode

pytestmark = [pytest.mark.ssh, pytest.mark.real, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshTestCluster]:
    with ssh_fixtures.running(tmp_path_factory, count=1) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def users() -> Iterator[tuple[str, str]]:
    with ssh_fixtures.sudo_users() as pair:
        yield pair


def _node(sshd: SshTestCluster, user: str, sudo: bool) -> Iterator[SshNode]:
    cluster = SshCluster(sshd.options(user=user, sudo=sudo))
    try:
        yield cluster.setup()[0]
    finally:
        cluster.teardown()


@pytest.fixture
def as_root(sshd: SshTestCluster, users: tuple[str, str]) -> Iterator[SshNode]:
    yield from _node(sshd, users[0], sudo=True)


@pytest.fixture
def plain(sshd: SshTestCluster, users: tuple[str, str]) -> Iterator[SshNode]:
    yield from _node(sshd, users[0], sudo=False)


@pytest.fixture
def root_only_dir() -> Iterator[PurePosixPath]:
    path = Path(f"/root/sbssh-sudo-{uuid.uuid4().hex[:8]}")
    path.mkdir(mode=0o700)
    try:
        yield PurePosixPath(path)
    finally:
        for child in sorted(path.rglob("*"), reverse=True):
            child.rmdir() if child.is_dir() else child.unlink()
        path.rmdir()


def test_commands_run_as_root_only_with_sudo(
    as_root: SshNode, plain: SshNode, users: tuple[str, str]
) -> None:
    assert as_root.run(["id", "-u"]).check().stdout.strip() == "0"
    assert as_root.command_line(["id", "-u"]).startswith("sudo -n -- ")
    plain_uid = plain.run(["id", "-un"]).check().stdout.strip()
    assert plain_uid == users[0]
    assert "sudo" not in plain.command_line(["id"])


def test_files_in_a_root_only_directory_with_sudo(
    as_root: SshNode, plain: SshNode, root_only_dir: PurePosixPath, tmp_path: Path
) -> None:
    payload = os.urandom(100_000)
    local = tmp_path / "payload.bin"
    local.write_bytes(payload)
    remote = Path(root_only_dir / "sub" / "payload.bin")
    with pytest.raises(NodeError, match=r"10\.77\.0\.201: .*mkdir"):
        plain.upload(local, remote)
    as_root.upload(local, remote)
    assert hashlib.sha256(remote.read_bytes()).hexdigest() == hashlib.sha256(payload).hexdigest()
    secret = Path(root_only_dir / "secret.log")
    secret.write_text("only root reads this\n")
    secret.chmod(0o600)
    with pytest.raises(NodeError, match="download of .*secret.log failed"):
        plain.download(secret, tmp_path / "denied")
    as_root.download(secret, tmp_path / "secret.log")
    assert (tmp_path / "secret.log").read_text() == "only root reads this\n"
    assert not list(Path("/tmp").glob("splitbrain-down-*")), "the staging copy is removed"
    as_root.remove_tree(root_only_dir / "sub")
    assert not Path(root_only_dir / "sub").exists()


def test_daemons_run_as_root_and_take_signals(
    as_root: SshNode, root_only_dir: PurePosixPath
) -> None:
    log = Path(root_only_dir / "logs" / "daemon.log")
    as_root.mkdir(root_only_dir / "logs")
    daemon = as_root.spawn("sleeper", ["sh", "-c", "echo started; exec sleep 300"], log)
    try:
        assert as_root.running(daemon)
        owner = as_root.run(["ps", "-o", "user=", "-p", str(daemon.pgid)]).check().stdout
        assert owner.strip() == "root"
        assert eventually(lambda: "started" in as_root.read_text(log))
        as_root.signal(daemon, signal.SIGSTOP)
        assert eventually(lambda: _state(daemon.pgid).startswith("T"))
        as_root.signal(daemon, signal.SIGCONT)
        assert eventually(lambda: not _state(daemon.pgid).startswith("T"))
    finally:
        as_root.stop(daemon)
    assert not as_root.running(daemon)
    assert _state(daemon.pgid) == ""


def _state(pid: int) -> str:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return ""
    return fields[0]


def test_a_user_without_sudo_rights_gets_a_clear_refusal(
    sshd: SshTestCluster, users: tuple[str, str]
) -> None:
    for node in _node(sshd, users[1], sudo=True):
        result = node.run(["id", "-u"])
        assert result.returncode != 0
        assert "sudo" in result.stderr and "password is required" in result.stderr
        with pytest.raises(NodeError, match=r"10\.77\.0\.201: .*password is required"):
            result.check()
