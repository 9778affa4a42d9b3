"""Local nodes: one Linux network namespace per node, joined by a bridge of the run's own.

Node ``ni`` lives in namespace ``sb-TAG-ni`` with interface ``sbTAG-ni`` and an address in
10.77.0.0/24 (the project's /24), and no default route. The host reaches the nodes through
the bridge ``sbTAG-br``, where it has one /32 address and one /32 route per node, so
several clusters can exist at once: each takes a free *slot* of addresses (slot 0 puts the
nodes at 10.77.0.11, .12, ...). TAG is derived from the run id. Every step is journaled
before it is taken, so ``cleanup(journal)`` can undo a run that was SIGKILLed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from splitbrain.harness.base import signals
from splitbrain.harness.control.journal import Journal, journal_dir, read_entries, stale_journals
from splitbrain.harness.control.node import CommandResult, Daemon, NodeError

SUBNET = "10.77.0"
SLOTS = 10
NODES_PER_SLOT = 20
MAX_NODES = NODES_PER_SLOT


def run_tag(run_id: str) -> str:
    """Six hex digits naming a run's namespaces, links and chains (interface names <= 15 chars)."""
    return hashlib.sha1(run_id.encode()).hexdigest()[:6]


def host_address(slot: int) -> str:
    return f"{SUBNET}.{1 + slot}"


def node_address(slot: int, index: int) -> str:
    """Address of node ``index`` (1-based) in ``slot``; slot 0 gives 10.77.0.11, .12, ..."""
    return f"{SUBNET}.{10 + slot * NODES_PER_SLOT + index}"


def _ip(*args: str, check: bool = True, timeout: float = 15.0) -> subprocess.CompletedProcess[str]:
    """Run ``ip``; a signal meanwhile waits for it to end (``signals.postponed``): cut short
    in ``fork_exec``, the command would go on unseen and, say, add a bridge after teardown
    had removed what the journal named."""
    with signals.postponed():
        proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise NodeError(f"`ip {' '.join(args)}` failed: {proc.stderr.strip() or proc.returncode}")
    return proc


def _link_exists(name: str) -> bool:
    return _ip("link", "show", "dev", name, check=False).returncode == 0


def netns_exists(name: str) -> bool:
    return (Path("/run/netns") / name).exists()


def netns_pids(name: str) -> list[int]:
    proc = _ip("netns", "pids", name, check=False)
    return [int(p) for p in proc.stdout.split() if p.isdigit()]


@dataclass
class LocalNode:
    """A node in a network namespace on this machine."""

    name: str
    namespace: str
    address: str
    interface: str
    kind: str = "netns"
    _procs: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict, repr=False)

    def _argv(self, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.namespace, *argv]

    def run(
        self, argv: list[str], timeout: float = 30.0, input: str | None = None
    ) -> CommandResult:
        try:
            proc = subprocess.run(
                self._argv(argv), capture_output=True, text=True, timeout=timeout, input=input
            )
        except subprocess.TimeoutExpired:
            return CommandResult(self.name, argv, 124, "", f"timed out after {timeout:g}s")
        except FileNotFoundError as e:
            return CommandResult(self.name, argv, 127, "", str(e))
        return CommandResult(self.name, argv, proc.returncode, proc.stdout, proc.stderr)

    def spawn(self, name: str, argv: list[str], log: Path, cwd: Path | None = None) -> Daemon:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            proc = subprocess.Popen(
                self._argv(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                start_new_session=True,
            )
        self._procs[proc.pid] = proc
        return Daemon(self.name, name, argv, log, pgid=proc.pid)

    def signal(self, daemon: Daemon, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(daemon.pgid, sig)

    def running(self, daemon: Daemon) -> bool:
        proc = self._procs.get(daemon.pgid)
        if proc is not None:
            return proc.poll() is None
        return Path(f"/proc/{daemon.pgid}").exists()

    def exit_code(self, daemon: Daemon) -> int | None:
        proc = self._procs.get(daemon.pgid)
        return None if proc is None else proc.poll()

    def stop(self, daemon: Daemon, timeout: float = 10.0) -> None:
        self.signal(daemon, signal.SIGKILL)
        self.signal(daemon, signal.SIGCONT)
        daemon.paused = False
        proc = self._procs.pop(daemon.pgid, None)
        if proc is not None:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired as e:
                raise NodeError(
                    f"{self.name}: {daemon.name} (pid {daemon.pgid}) survived SIGKILL"
                ) from e

    def upload(self, local: Path, remote: Path) -> None:
        remote.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, remote)

    def download(self, remote: Path, local: Path) -> None:
        local.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(remote, local)

    def mkdir(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)

    def remove_tree(self, path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)

    def kill_all(self) -> None:
        """SIGKILL every process left in the namespace, whoever started it."""
        _kill_namespace_processes(self.namespace)
        for proc in self._procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        self._procs.clear()


class _SlotLock:
    """An flock on one address slot, held for the cluster's life (released by the kernel on death)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.slot = -1
        self._file: IO[str] | None = None

    def acquire(self) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        for slot in range(SLOTS):
            f = (self.directory / f"slot-{slot}.lock").open("w")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.close()
                continue
            if _address_in_use(host_address(slot)):
                f.close()
                continue
            self._file, self.slot = f, slot
            return slot
        raise NodeError(
            f"no free address slot in {SUBNET}.0/24: {SLOTS} local clusters exist; "
            "run `splitbrain cleanup` to remove those of killed runs"
        )

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _address_in_use(address: str) -> bool:
    proc = _ip("-o", "addr", "show", "to", f"{address}/32", check=False)
    return bool(proc.stdout.strip())


class LocalNetnsCluster:
    """Creates and removes a bridge, and one namespace and veth pair per node."""

    kind = "netns"

    def __init__(self, run_id: str, count: int = 3, journal_directory: Path | None = None) -> None:
        if not 1 <= count <= MAX_NODES:
            raise ValueError(f"a local cluster has 1 to {MAX_NODES} nodes, not {count}")
        self.run_id = run_id
        self.count = count
        self.tag = run_tag(run_id)
        self.bridge = f"sb{self.tag}-br"
        self.journal_directory = journal_directory or journal_dir()
        self.journal: Journal | None = None
        self.nodes: list[LocalNode] = []
        self._lock = _SlotLock(self.journal_directory)
        self.slot = -1

    @property
    def host_address(self) -> str:
        return host_address(self.slot)

    def node(self, name: str) -> LocalNode:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"no node {name!r} in this cluster")

    def setup(self) -> list[LocalNode]:
        """Create everything (once; later calls return the nodes); on any error, remove what was created."""
        if self.nodes:
            return self.nodes
        try:
            self.slot = self._lock.acquire()
            with signals.postponed():
                self.journal = Journal.create(self.run_id, self.tag, self.journal_directory)
            self.journal.record("slot", slot=self.slot)
            self._create_bridge()
            for i in range(1, self.count + 1):
                self.nodes.append(self._create_node(i))
        except BaseException:
            self.teardown()
            raise
        return self.nodes

    def _step(self, kind: str, name: str, *argv: str) -> None:
        assert self.journal is not None
        self.journal.record(kind, name=name)
        proc = _ip(*argv, check=False)
        if proc.returncode != 0:
            self.journal.record("abandon", name=name)
            raise NodeError(f"`ip {' '.join(argv)}` failed: {proc.stderr.strip()}")

    def _create_bridge(self) -> None:
        self._step("link", self.bridge, "link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.host_address}/32", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")

    def _create_node(self, index: int) -> LocalNode:
        name = f"n{index}"
        ns = f"sb-{self.tag}-{name}"
        host_side = f"sb{self.tag}-h{index}"
        inside = f"sb{self.tag}-{name}"
        address = node_address(self.slot, index)
        self._step("netns", ns, "netns", "add", ns)
        self._step(
            "link",
            host_side,
            "link",
            "add",
            host_side,
            "type",
            "veth",
            "peer",
            "name",
            inside,
            "netns",
            ns,
        )
        _ip("link", "set", host_side, "master", self.bridge, "up")
        _ip("-n", ns, "link", "set", "lo", "up")
        _ip("-n", ns, "addr", "add", f"{address}/24", "dev", inside)
        _ip("-n", ns, "link", "set", inside, "up")
        _ip("route", "add", f"{address}/32", "dev", self.bridge, "src", self.host_address)
        return LocalNode(name, ns, address, inside)

    def own_tree(self, path: Path) -> None:
        """Journal a local directory the run is about to make (node data), so that
        ``splitbrain cleanup`` removes it after a killed run."""
        assert self.journal is not None
        self.journal.record("tree", name=str(path))

    def teardown(self) -> None:
        """Kill every process in the namespaces, then remove exactly what the journal names.
        Raises NodeError naming what is still there; its journal is then kept for cleanup."""
        errors = []
        for node in self.nodes:
            try:
                node.kill_all()
            except NodeError as e:
                errors.append(str(e))
        if self.journal is not None:
            self.journal.close()
            entries = read_entries(self.journal.path)
            undo(entries)
            left = leftovers(entries)
            if left:
                errors.append(
                    f"left behind: {', '.join(left)}; journal {self.journal.path} kept for "
                    "`splitbrain cleanup`"
                )
            else:
                self.journal.path.unlink(missing_ok=True)
            self.journal = None
        self._lock.release()
        self.nodes = []
        if errors:
            raise NodeError("; ".join(errors))

    def __enter__(self) -> LocalNetnsCluster:
        self.setup()
        return self

    def __exit__(self, *exc: object) -> None:
        self.teardown()


def _kill_namespace_processes(namespace: str, timeout: float = 10.0) -> None:
    if not netns_exists(namespace):
        return
    deadline = time.monotonic() + timeout
    while pids := netns_pids(namespace):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            raise NodeError(f"processes {pids} in namespace {namespace} survive SIGKILL")
        time.sleep(0.05)


def _steps(entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(kind, name) of each journaled step not abandoned, newest first."""
    abandoned = {e["name"] for e in entries if e["kind"] == "abandon"}
    return [
        (e["kind"], e["name"])
        for e in reversed(entries)
        if isinstance(e.get("name"), str) and e["name"] not in abandoned
    ]


def _present(kind: str, name: str) -> bool:
    if kind == "netns":
        return netns_exists(name)
    if kind == "link":
        return _link_exists(name)
    if kind == "tree":
        return os.path.lexists(name)
    return False


_WHAT = {"netns": "namespace", "link": "link", "tree": "directory"}


def undo(entries: list[dict[str, Any]]) -> list[str]:
    """Undo journaled steps, newest first; returns what was removed. Missing things are skipped."""
    removed = []
    for kind, name in _steps(entries):
        if not _present(kind, name):
            continue
        if kind == "netns":
            with contextlib.suppress(NodeError):
                _kill_namespace_processes(name)
            _ip("netns", "del", name, check=False)
        elif kind == "link":
            _ip("link", "del", name, check=False)
        elif kind == "tree":
            shutil.rmtree(name, ignore_errors=True)
        if not _present(kind, name):
            removed.append(f"{_WHAT[kind]} {name}")
    return removed


def leftovers(entries: list[dict[str, Any]]) -> list[str]:
    """What the journal names that still exists."""
    return [f"{_WHAT[kind]} {name}" for kind, name in _steps(entries) if _present(kind, name)]


def cleanup(journal: Path) -> list[str]:
    """Remove everything a run's journal names; the journal goes too unless something stayed
    (then it is kept, for another ``splitbrain cleanup``)."""
    entries = read_entries(journal)
    removed = undo(entries)
    if not leftovers(entries):
        journal.unlink(missing_ok=True)
    return removed


def cleanup_stale(directory: Path | None = None) -> dict[str, list[str]]:
    """Clean up after every run whose owning process is gone (what ``splitbrain cleanup`` does)."""
    return {str(path): cleanup(path) for path in stale_journals(directory)}
