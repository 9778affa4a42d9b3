"""Real sshd servers inside network namespaces of the SSH tests' own (sbssh-*, 10.77.0.200-220).

Each namespace gets a veth on the bridge ``sbssh-br`` and an sshd with a host key, a
client key and a known_hosts file all generated for the test. Teardown kills every process
left in the namespaces and removes the namespaces and the bridge. ``sudo_users`` adds two
local users for the ``--sudo`` tests, one allowed to sudo and one not, and removes them.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from splitbrain.harness.control.ssh import SshOptions

PREFIX = "sbssh"
BRIDGE = f"{PREFIX}-br"
HOST_ADDRESS = "10.77.0.200"
MAX_NODES = 5
KEYS_DIR = Path("/run/sbssh-keys")
"""authorized_keys lives here, readable by every user: sshd reads it as the logging-in user."""
SUDO_USER = "sbssh-sudo"
NO_SUDO_USER = "sbssh-nosudo"
SUDOERS = Path("/etc/sudoers.d/sbssh-test")


def namespace(index: int) -> str:
    return f"{PREFIX}-{index}"


def node_address(index: int) -> str:
    return f"10.77.0.{200 + index}"


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if check and proc.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {proc.stderr.strip()}")
    return proc


def keygen(path: Path, comment: str) -> str:
    """A new ed25519 key pair at ``path``; returns the public key line."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path.with_suffix(".pub").read_text().strip()


def kill_namespace(name: str) -> None:
    for _ in range(100):
        pids = [
            int(p) for p in ip("netns", "pids", name, check=False).stdout.split() if p.isdigit()
        ]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


def _link_exists(name: str) -> bool:
    return Path(f"/sys/class/net/{name}").exists()


def remove_all() -> None:
    """Remove every namespace, veth and the bridge of these tests, also those a killed run left.

    The kernel destroys a deleted namespace's veth peers asynchronously, so the host ends are
    deleted explicitly and waited for: the next fixture may reuse their names at once.
    """
    for i in range(1, MAX_NODES + 1):
        if Path(f"/run/netns/{namespace(i)}").exists():
            kill_namespace(namespace(i))
            ip("netns", "del", namespace(i), check=False)
    links = [f"{PREFIX}-h{i}" for i in range(1, MAX_NODES + 1)] + [BRIDGE]
    for link in links:
        if _link_exists(link):
            ip("link", "del", link, check=False)
    deadline = time.monotonic() + 10
    while any(_link_exists(link) for link in links) and time.monotonic() < deadline:
        time.sleep(0.05)


SSHD_CONFIG = """\
ListenAddress {address}
Port 22
HostKey {host_key}
AuthorizedKeysFile {authorized_keys}
PidFile none
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
LogLevel VERBOSE
"""


@dataclass
class SshTestCluster:
    directory: Path
    count: int
    client_key: Path
    known_hosts: Path
    host_public_keys: list[str] = field(default_factory=list)
    servers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def addresses(self) -> list[str]:
        return [node_address(i) for i in range(1, self.count + 1)]

    def options(self, **overrides: object) -> SshOptions:
        fields: dict[str, object] = {
            "hosts": self.addresses,
            "user": "root",
            "key": str(self.client_key),
            "known_hosts": str(self.known_hosts),
            "connect_attempts": 2,
        }
        fields.update(overrides)
        return SshOptions(**fields)  # type: ignore[arg-type]

    def sshd_log(self, index: int) -> str:
        return (self.directory / f"sshd-{index}.log").read_text(errors="replace")


def _create_network(count: int) -> None:
    ip("link", "add", BRIDGE, "type", "bridge")
    ip("addr", "add", f"{HOST_ADDRESS}/32", "dev", BRIDGE)
    ip("link", "set", BRIDGE, "up")
    for i in range(1, count + 1):
        ns, inside, outside = namespace(i), f"{PREFIX}-n{i}", f"{PREFIX}-h{i}"
        ip("netns", "add", ns)
        ip("link", "add", outside, "type", "veth", "peer", "name", inside, "netns", ns)
        ip("link", "set", outside, "master", BRIDGE, "up")
        ip("-n", ns, "link", "set", "lo", "up")
        ip("-n", ns, "addr", "add", f"{node_address(i)}/24", "dev", inside)
        ip("-n", ns, "link", "set", inside, "up")
        ip("route", "add", f"{node_address(i)}/32", "dev", BRIDGE, "src", HOST_ADDRESS)


def _start_sshd(cluster: SshTestCluster, index: int, authorized_keys: Path) -> None:
    d = cluster.directory
    host_key = d / f"host-{index}"
    cluster.host_public_keys.append(keygen(host_key, f"host-{index}"))
    config = d / f"sshd-{index}.conf"
    config.write_text(
        SSHD_CONFIG.format(
            address=node_address(index), host_key=host_key, authorized_keys=authorized_keys
        )
    )
    with (d / f"sshd-{index}.log").open("ab") as out:
        cluster.servers.append(
            subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    namespace(index),
                    "/usr/sbin/sshd",
                    "-D",
                    "-e",
                    "-f",
                    str(config),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        )


def _wait_listening(cluster: SshTestCluster, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    for i, address in enumerate(cluster.addresses, 1):
        while True:
            with contextlib.suppress(OSError), socket.create_connection((address, 22), timeout=1):
                break
            if time.monotonic() > deadline or cluster.servers[i - 1].poll() is not None:
                raise RuntimeError(f"sshd {i} did not start: {cluster.sshd_log(i)}")
            time.sleep(0.05)


def start(directory: Path, count: int = 3) -> SshTestCluster:
    """Namespaces, bridge and one sshd per node; on error everything is removed again."""
    assert 1 <= count <= MAX_NODES
    remove_all()
    client_key = directory / "client"
    cluster = SshTestCluster(directory, count, client_key, directory / "known_hosts")
    try:
        shutil.rmtree(KEYS_DIR, ignore_errors=True)
        KEYS_DIR.mkdir(mode=0o755)
        authorized_keys = KEYS_DIR / "authorized_keys"
        authorized_keys.write_text(keygen(client_key, "splitbrain-test-client") + "\n")
        authorized_keys.chmod(0o644)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        _create_network(count)
        for i in range(1, count + 1):
            _start_sshd(cluster, i, authorized_keys)
        cluster.known_hosts.write_text(
            "".join(
                f"{a} {k}\n"
                for a, k in zip(cluster.addresses, cluster.host_public_keys, strict=True)
            )
        )
        _wait_listening(cluster)
    except BaseException:
        stop(cluster)
        raise
    return cluster


@contextlib.contextmanager
def running(tmp_path_factory: Any, count: int) -> Iterator[SshTestCluster]:
    """A started cluster for a module's tests (``tmp_path_factory`` is pytest's), stopped after."""
    cluster = start(tmp_path_factory.mktemp("sshd"), count=count)
    try:
        yield cluster
    finally:
        stop(cluster)


def stop(cluster: SshTestCluster) -> None:
    for server in cluster.servers:
        server.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(5)
    remove_all()
    shutil.rmtree(KEYS_DIR, ignore_errors=True)


def leftovers(cluster: SshTestCluster, keep: frozenset[int] = frozenset()) -> list[str]:
    """Processes other than sshd (and ``keep``) and iptables rules of runs (sbpart, sbpkt)
    still in the test's namespaces."""
    found = []
    for i in range(1, cluster.count + 1):
        ns = namespace(i)
        for pid in ip("netns", "pids", ns).stdout.split():
            comm = Path(f"/proc/{pid}/comm")
            with contextlib.suppress(OSError):
                name = comm.read_text().strip()
                if name != "sshd" and int(pid) not in keep:
                    found.append(f"{ns}: process {pid} {name}")
        rules = subprocess.run(
            ["ip", "netns", "exec", ns, "iptables", "-w", "-S"], capture_output=True, text=True
        ).stdout
        found += [f"{ns}: {r}" for r in rules.splitlines() if "sbpart" in r or "sbpkt" in r]
    return found


def _remove_users() -> None:
    SUDOERS.unlink(missing_ok=True)
    for user in (SUDO_USER, NO_SUDO_USER):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(user)
            subprocess.run(["pkill", "-KILL", "-u", user], capture_output=True)
            subprocess.run(["userdel", user], check=True, capture_output=True, timeout=30)


@contextlib.contextmanager
def sudo_users() -> Iterator[tuple[str, str]]:
    """(a user who may run anything as root with ``sudo -n``, a user who may not); both
    log in with the cluster's client key. Removed afterwards, also after a killed run."""
    if shutil.which("sudo") is None:
        raise RuntimeError("sudo is not installed (.ci/apt-packages installs it)")
    _remove_users()
    try:
        for user in (SUDO_USER, NO_SUDO_USER):
            subprocess.run(
                # password "*": no password login, but not a locked account (sshd refuses those)
                ["useradd", "-M", "-d", "/tmp", "-s", "/bin/sh", "-p", "*", user],
                check=True,
                capture_output=True,
                timeout=30,
            )
        staged = SUDOERS.with_name("sbssh-test.new")
        staged.write_text(f"{SUDO_USER} ALL=(root) NOPASSWD: ALL\n")
        staged.chmod(0o440)
        subprocess.run(["visudo", "-c", "-q", "-f", str(staged)], check=True, timeout=30)
        staged.rename(SUDOERS)
        yield SUDO_USER, NO_SUDO_USER
    finally:
        _remove_users()
