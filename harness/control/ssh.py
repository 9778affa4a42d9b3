"""Remote nodes over SSH (paramiko), behind the same ``Node`` interface as the local namespaces.

One connection per node, opened at setup and reused by every command, upload and download.
Host keys are checked against a known_hosts file (paramiko's RejectPolicy) unless the user
turns that off explicitly, which is logged loudly. Every command is an argument list joined
with ``shlex.quote`` (never interpolated into a string), wrapped in ``timeout`` so it cannot
outlive its deadline on the node, and prefixed with ``sudo -n`` when asked. Only connection
setup is retried: a command that may have reached the node is never sent twice.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import posixpath
import select
import shlex
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import paramiko

from splitbrain.harness.base.protocols import HarnessInputError, RunsOnHosts
from splitbrain.harness.control.node import CommandResult, Daemon, NodeError
from splitbrain.harness.control.remote_undo import UndoJournal, leftovers
from splitbrain.harness.control.sshopts import SshOptions, parse_host

log = logging.getLogger("splitbrain.ssh")

GRACE = 5.0
"""Seconds the local side waits beyond a command's own remote ``timeout``."""
KILL_AFTER = 2
RECV = 65536

START_TIME = """sed 's/.*) //' /proc/$1/stat 2>/dev/null | cut -d' ' -f20"""
"""Prints the start time (clock ticks since boot) of process $1: with the pid it names one process."""
SPAWN_SCRIPT = (
    'log=$1; dir=$2; shift 2; cd "$dir" || exit 127; '
    f'echo $$ "$(set -- $$; {START_TIME})"; '
    'exec "$@" >>"$log" 2>&1 </dev/null'
)
"""Run by ``setsid -f sh -c``: prints its pid (= the new process group) and start time, then
becomes the daemon."""
KILL_IF_SAME = f'if [ -n "$2" ] && [ "$({START_TIME})" = "$2" ]; then env kill -s KILL -- "-$1"; fi'
"""Kills process group $1 only if its leader still started at $2: a pid can be reused."""


class SshHostKeyError(NodeError, HarnessInputError):
    """A node's host key is unknown or differs from the pinned one: never connect."""


class SshConnectError(NodeError):
    """Could not connect to or authenticate with a node."""


def resolve_ipv4(host: str, where: str) -> str:
    try:
        ipaddress.IPv4Address(host)
        return host
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise HarnessInputError(f"{where}: cannot resolve {host!r}: {e.strerror}") from None
    return str(infos[0][4][0])


class _Reject(paramiko.RejectPolicy):
    """paramiko's RejectPolicy, with a message naming the node and the known_hosts file."""

    def __init__(self, node: str, known_hosts: Path) -> None:
        self.node = node
        self.known_hosts = known_hosts

    def missing_host_key(self, client: Any, hostname: str, key: paramiko.PKey) -> None:
        raise SshHostKeyError(
            f"{self.node}: host key of {hostname} ({key.get_name()} {key.fingerprint}) is not in "
            f"{self.known_hosts}; refusing to connect (add it, or pass --ssh-known-hosts)"
        )


class _AcceptLoudly(paramiko.MissingHostKeyPolicy):
    def __init__(self, node: str) -> None:
        self.node = node

    def missing_host_key(self, client: Any, hostname: str, key: paramiko.PKey) -> None:
        log.warning(
            "HOST KEY CHECKING IS OFF: accepting %s key %s of %s (node %s) unverified; "
            "anyone on the network path can impersonate this node",
            key.get_name(),
            key.fingerprint,
            hostname,
            self.node,
        )


def _fingerprint(key: paramiko.PKey) -> str:
    return f"{key.get_name()} {key.fingerprint}"


@dataclass
class SshNode:
    """A remote machine reached over one reused SSH connection."""

    host: str
    options: SshOptions
    port: int = 22
    name: str = ""
    address: str = ""
    interface: str = ""
    kind: str = "ssh"
    _client: paramiko.SSHClient | None = field(default=None, repr=False)
    _sftp: paramiko.SFTPClient | None = field(default=None, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _sftp_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    undo_journal: UndoJournal | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.name = self.name or self.host
        self.address = self.address or resolve_ipv4(self.host, f"node {self.name}")

    @property
    def use_sudo(self) -> bool:
        return self.options.sudo and self.options.user != "root"

    # Connection.

    def connect(self) -> None:
        """Connect (retrying only network-level failures), then learn the node's interface."""
        with self._lock:
            if self._active():
                return
            self._connect_with_retries()
        if not self.interface:
            self.interface = self._find_interface()

    def _active(self) -> bool:
        transport = self._client.get_transport() if self._client else None
        return transport is not None and transport.is_active()

    def _connect_with_retries(self) -> None:
        attempts = max(1, self.options.connect_attempts)
        for attempt in range(1, attempts + 1):
            try:
                self._client = self._connect_once()
                self._sftp = None
                return
            except (SshHostKeyError, SshConnectError):
                raise
            except (OSError, EOFError, paramiko.SSHException) as e:
                if attempt == attempts:
                    raise SshConnectError(
                        f"{self.name}: cannot connect to {self.host}:{self.port} as {self.options.user} "
                        f"after {attempts} attempts: {type(e).__name__}: {e}"
                    ) from None
                log.info("%s: connecting failed (%s), retrying", self.name, e)
                time.sleep(0.5 * 2 ** (attempt - 1))

    def _connect_once(self) -> paramiko.SSHClient:
        client = paramiko.SSHClient()
        known_hosts = self.options.known_hosts_path()
        if self.options.no_host_key_check:
            client.set_missing_host_key_policy(_AcceptLoudly(self.name))
        else:
            if not known_hosts.is_file():
                raise SshHostKeyError(
                    f"{self.name}: known_hosts file {known_hosts} does not exist; host keys are "
                    "checked by default (pass --ssh-known-hosts FILE)"
                )
            client.load_host_keys(str(known_hosts))
            client.set_missing_host_key_policy(_Reject(self.name, known_hosts))
        key = self.options.key
        try:
            client.connect(
                self.host,
                port=self.port,
                username=self.options.user,
                key_filename=str(Path(key).expanduser()) if key else None,
                look_for_keys=key is None,
                allow_agent=key is None,
                timeout=self.options.connect_timeout,
                banner_timeout=self.options.connect_timeout,
                auth_timeout=self.options.connect_timeout,
            )
        except paramiko.BadHostKeyException as e:
            client.close()
            raise SshHostKeyError(
                f"{self.name}: host key of {self.host}:{self.port} does not match {known_hosts}: "
                f"got {_fingerprint(e.key)}, expected {_fingerprint(e.expected_key)}; refusing to connect"
            ) from None
        except paramiko.AuthenticationException as e:
            client.close()
            raise SshConnectError(
                f"{self.name}: authentication as {self.options.user} on {self.host}:{self.port} failed: {e}"
            ) from None
        except BaseException:
            client.close()
            raise
        transport = client.get_transport()
        if transport is not None:
            transport.set_keepalive(15)
        return client

    def close(self) -> None:
        with self._lock:
            if self._sftp is not None:
                with contextlib.suppress(Exception):
                    self._sftp.close()
            if self._client is not None:
                self._client.close()
            self._client = None
            self._sftp = None

    def _find_interface(self) -> str:
        """The interface holding the node's address, or '' (with a warning) if none does (NAT)."""
        result = self.run(["ip", "-o", "-4", "addr", "show"], timeout=15)
        for line in result.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 4 and parts[2] == "inet" and parts[3].split("/")[0] == self.address:
                return parts[1].split("@")[0]
        log.warning("%s: no interface holds %s; packet faults need one", self.name, self.address)
        return ""

    def _open_session(self) -> paramiko.Channel:
        """A fresh channel; reconnects when the connection is down. Nothing has been sent yet."""
        for attempt in (1, 2):
            with self._lock:
                if not self._active():
                    self._connect_with_retries()
                assert self._client is not None
                transport = self._client.get_transport()
            try:
                assert transport is not None
                return transport.open_session(timeout=self.options.connect_timeout)
            except (paramiko.SSHException, EOFError, OSError) as e:
                if attempt == 2:
                    raise SshConnectError(f"{self.name}: cannot open an SSH session: {e}") from None
                with self._lock:
                    self.close()
        raise AssertionError("unreachable")

    # Commands.

    def command_line(self, argv: list[str], timeout: float | None = None) -> str:
        """The exact string sent to the remote shell: every argument quoted."""
        if not argv:
            raise NodeError(f"{self.name}: empty command")
        words = [str(a) for a in argv]
        if timeout is not None:
            words = ["timeout", f"--kill-after={KILL_AFTER}", f"{timeout:.3f}", *words]
        if self.use_sudo:
            words = ["sudo", "-n", "--", *words]
        return shlex.join(words)

    def run(
        self, argv: list[str], timeout: float = 30.0, input: str | None = None
    ) -> CommandResult:
        argv = [str(a) for a in argv]
        try:
            code, out, err = self._exec(self.command_line(argv, timeout), timeout + GRACE, input)
        except SshConnectError as e:
            return CommandResult(self.name, argv, 255, "", f"ssh: not sent: {e}")
        return CommandResult(self.name, argv, code, out, err)

    def _exec(self, command: str, deadline_s: float, input: str | None) -> tuple[int, str, str]:
        channel = self._open_session()
        try:
            try:
                channel.exec_command(command)
                if input is not None:
                    channel.sendall(input.encode())
                channel.shutdown_write()
                out, err, finished = _collect(channel, time.monotonic() + deadline_s)
            except (paramiko.SSHException, EOFError, OSError) as e:
                return 255, "", f"ssh: connection lost, the command may have run: {e}"
            if not finished:
                return 124, out, err + f"timed out after {deadline_s:g}s"
            return channel.recv_exit_status(), out, err
        finally:
            channel.close()

    def stream(self, argv: list[str], timeout: float = 30.0) -> LineStream:
        """Start a line-oriented command whose stdin and stdout stay open (one request per line)."""
        channel = self._open_session()
        try:
            channel.exec_command(self.command_line([str(a) for a in argv], timeout))
        except BaseException:
            channel.close()
            raise
        return LineStream(self.name, channel)

    # Daemons.

    def spawn(self, name: str, argv: list[str], log: Path, cwd: Path | None = None) -> Daemon:
        self.mkdir(PurePosixPath(log).parent)
        words = ["setsid", "-f", "sh", "-c", SPAWN_SCRIPT, "sh", str(log), str(cwd or "/"), *argv]
        code, out, err = self._exec(self.command_line(words), 30.0, None)
        last = out.strip().splitlines()[-1].split() if out.strip() else []
        pid, started = (last + ["", ""])[:2]
        if code != 0 or not pid.isdigit():
            raise NodeError(
                f"{self.name}: starting {name} failed (exit {code}): {(err or out).strip() or 'no output'}"
            )
        daemon = Daemon(self.name, name, [str(a) for a in argv], log, pgid=int(pid))
        daemon.extra["undo"] = self.undo_later(
            f"daemon {name} (process group {pid})", ["sh", "-c", KILL_IF_SAME, "sh", pid, started]
        )
        return daemon

    def signal(self, daemon: Daemon, sig: int) -> None:
        signame = signal.Signals(sig).name.removeprefix("SIG")
        self.run(["kill", "-s", signame, "--", f"-{daemon.pgid}"], timeout=10)

    def running(self, daemon: Daemon) -> bool:
        result = self.run(["kill", "-0", "--", f"-{daemon.pgid}"], timeout=10)
        if result.returncode == 255:
            raise NodeError(f"{self.name}: cannot tell whether {daemon.name} runs: {result.stderr}")
        if not result.ok:  # gone: nothing left for cleanup to kill (stop() ends here too)
            self.undone(daemon.extra.get("undo"))  # type: ignore[arg-type]
        return result.ok

    def stop(self, daemon: Daemon, timeout: float = 10.0) -> None:
        self.signal(daemon, signal.SIGKILL)
        self.signal(daemon, signal.SIGCONT)
        daemon.paused = False
        deadline = time.monotonic() + timeout
        while self.running(daemon):
            if time.monotonic() > deadline:
                raise NodeError(
                    f"{self.name}: {daemon.name} (process group {daemon.pgid}) survived SIGKILL"
                )
            time.sleep(0.05)

    # What cleanup must undo if the run is killed (see ``remote_undo``).

    def undo_later(self, what: str, *commands: list[str]) -> int | None:
        """Journal the commands that undo ``what`` on this node, before doing it."""
        if self.undo_journal is None:
            return None
        return self.undo_journal.later(self.host, self.port, what, [list(c) for c in commands])

    def undone(self, step: int | None) -> None:
        if step is not None and self.undo_journal is not None:
            self.undo_journal.done(step)

    # Files.

    def _sftp_client(self) -> paramiko.SFTPClient:
        with self._lock:
            if not self._active():
                self._connect_with_retries()
            if self._sftp is None:
                assert self._client is not None
                self._sftp = self._client.open_sftp()
            return self._sftp

    def upload(self, local: Path, remote: Path) -> None:
        remote_path = str(PurePosixPath(remote))
        self.mkdir(PurePosixPath(remote).parent)
        staging = remote_path if not self.use_sudo else f"/tmp/splitbrain-up-{uuid.uuid4().hex}"
        try:
            with self._sftp_lock:
                self._sftp_client().put(str(local), staging)
        except (OSError, paramiko.SSHException) as e:
            raise NodeError(
                f"{self.name}: upload of {local} to {remote_path} failed: {e}"
            ) from None
        if staging != remote_path:
            self.run(["mv", "-f", "--", staging, remote_path]).check()

    def download(self, remote: Path, local: Path) -> None:
        remote_path = str(PurePosixPath(remote))
        local.parent.mkdir(parents=True, exist_ok=True)
        staging = remote_path
        if self.use_sudo:
            staging = f"/tmp/splitbrain-down-{uuid.uuid4().hex}"
            self.run(["cp", "--", remote_path, staging]).check()
            self.run(["chmod", "a+r", "--", staging]).check()
        try:
            with self._sftp_lock:
                self._sftp_client().get(staging, str(local))
        except (OSError, paramiko.SSHException) as e:
            raise NodeError(f"{self.name}: download of {remote_path} failed: {e}") from None
        finally:
            if staging != remote_path:
                self.run(["rm", "-f", "--", staging])

    def read_text(self, remote: Path, max_bytes: int = 65536) -> str:
        """The last ``max_bytes`` of a remote file ('' if it is missing), e.g. a daemon's log."""
        result = self.run(["tail", "-c", str(max_bytes), "--", str(remote)], timeout=15)
        return result.stdout if result.ok else ""

    def mkdir(self, path: Path | PurePosixPath) -> None:
        self.run(["mkdir", "-p", "--", str(path)]).check()

    def remove_tree(self, path: Path | PurePosixPath) -> None:
        text = posixpath.normpath(str(path))
        if not text.startswith("/") or len(PurePosixPath(text).parts) < 3:
            raise NodeError(f"{self.name}: refusing to remove {text!r}: not a deep absolute path")
        self.run(["rm", "-rf", "--", text]).check()


def _collect(channel: paramiko.Channel, deadline: float) -> tuple[str, str, bool]:
    """Read stdout and stderr until EOF or ``deadline``; (stdout, stderr, reached EOF)."""
    out, err = bytearray(), bytearray()
    while True:
        while channel.recv_ready():
            out += channel.recv(RECV)
        while channel.recv_stderr_ready():
            err += channel.recv_stderr(RECV)
        if channel.eof_received and not channel.recv_ready() and not channel.recv_stderr_ready():
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return _text(out), _text(err), False
        select.select([channel], [], [], min(remaining, 0.5))
    remaining = max(0.0, deadline - time.monotonic())
    return _text(out), _text(err), channel.status_event.wait(remaining)


def _text(data: bytearray) -> str:
    return bytes(data).decode("utf-8", errors="replace")


class LineStream:
    """One open command on a node: send a line, read a line back."""

    def __init__(self, node: str, channel: paramiko.Channel) -> None:
        self.node = node
        self.channel = channel
        self._buffer = bytearray()
        self._stderr = bytearray()

    def exchange(self, line: str, timeout: float = 10.0) -> str:
        self.channel.sendall((line + "\n").encode())
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            if self.channel.recv_ready():
                self._buffer += self.channel.recv(RECV)
                continue
            if self.channel.recv_stderr_ready():
                self._stderr += self.channel.recv_stderr(RECV)
                continue
            if self.channel.eof_received or time.monotonic() > deadline:
                raise NodeError(
                    f"{self.node}: no answer from the remote command: {_text(self._stderr).strip()}"
                )
            select.select([self.channel], [], [], max(0.0, min(0.5, deadline - time.monotonic())))
        head, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        return head.decode("utf-8", errors="replace")

    def close(self) -> None:
        self.channel.close()


class SshCluster:
    """A node provider for targets: connects to every host at setup, disconnects at teardown."""

    kind = "ssh"

    def __init__(self, options: SshOptions) -> None:
        if not options.hosts:
            raise HarnessInputError("--nodes: no hosts given")
        if options.no_host_key_check:
            log.warning(
                "HOST KEY CHECKING IS OFF (--ssh-no-host-key-check): connections to %s are not "
                "authenticated and can be intercepted",
                ", ".join(options.hosts),
            )
        self.options = options
        self.journal: UndoJournal | None = None
        self.nodes: list[SshNode] = []
        for spec in options.hosts:
            host, port = parse_host(spec, "--nodes", options.port)
            self.nodes.append(SshNode(host, options, port=port))
        names = [n.name for n in self.nodes]
        if len(set(names)) != len(names):
            raise HarnessInputError(f"--nodes: a host is listed twice: {', '.join(names)}")

    def setup(self) -> list[SshNode]:
        try:
            self.journal = UndoJournal(self.options.to_dict())
            for node in self.nodes:
                node.undo_journal = self.journal
                node.connect()
        except BaseException:
            self.teardown()
            raise
        return list(self.nodes)

    def teardown(self) -> None:
        for node in self.nodes:
            node.close()
            node.undo_journal = None
        if self.journal is not None:
            self.journal.close()
            self.journal = None


def attach(target: Any, ssh: dict[str, Any] | None) -> Any:
    """Give ``target`` SSH nodes instead of local ones; refuses targets that run no nodes.

    The target then owns the provider, so its teardown closes the connections.
    """
    if not ssh:
        return target
    if not isinstance(target, RunsOnHosts):
        raise HarnessInputError(
            f"target {target.name!r} runs no servers on nodes; --nodes does not apply"
        )
    target.run_on(SshCluster(SshOptions.from_dict(ssh)))
    return target


def undo_remote(path: Path) -> tuple[list[str], list[str]]:
    """Undo what the journal at ``path`` still lists, newest first; (undone, errors).

    The journal is removed when nothing is left; a host that cannot be reached keeps it,
    so a later ``splitbrain cleanup`` tries again.
    """
    found = leftovers(path)
    if not found.steps:
        path.unlink(missing_ok=True)
        return [], []
    if found.options is None:
        return [], [f"{path}: no SSH options recorded; undo by hand: {found.steps}"]
    options = SshOptions.from_dict(found.options)
    nodes: dict[tuple[str, int], SshNode] = {}
    undone: list[str] = []
    errors: list[str] = []
    unreachable: set[tuple[str, int]] = set()
    try:
        for step in reversed(found.steps):
            where = (step.host, step.port)
            if where in unreachable:
                continue
            try:
                node = nodes.get(where) or SshNode(step.host, options, port=step.port)
                nodes[where] = node
                node.connect()
            except Exception as e:
                unreachable.add(where)
                errors.append(
                    f"{step.host}: cannot connect to undo {step.what}: {e} (journal {path} is kept; "
                    "delete it if that machine is gone)"
                )
                continue
            for argv in step.commands:
                result = node.run(argv, timeout=120)
                if result.returncode == 255 and result.stderr.startswith("ssh:"):
                    unreachable.add(where)
                    errors.append(f"{step.host}: lost the connection undoing {step.what}")
                    break
            else:
                undone.append(f"{step.host}: {step.what}")
    finally:
        for node in nodes.values():
            node.close()
    if not unreachable:
        path.unlink(missing_ok=True)
    return undone, errors
