"""What every real target shares: nodes from a provider, one or more daemons per node, and
their lifecycle (start and wait until ready, kill, restart, pause, resume, logs, teardown).

A target subclasses ``ServiceTarget`` and says which daemons run on a node (``services``),
how each is started (``argv``) and when it is ready (``ready``).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import time
from pathlib import Path
from typing import Any, Protocol

from splitbrain.harness.base.options import option_int
from splitbrain.harness.base.protocols import RunContext
from splitbrain.harness.control.netns import MAX_NODES, LocalNetnsCluster
from splitbrain.harness.control.node import (
    Daemon,
    Node,
    NodeError,
    NodeStartError,
    ServerMissing,
    undo_later,
    undone,
)

START_TIMEOUT = 30.0


class NodeProvider(Protocol):
    """Brings up nodes for a run and removes them again (local namespaces, or SSH hosts)."""

    def setup(self) -> list[Any]: ...

    def teardown(self) -> None: ...


def last_line(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1].strip()[:300] if lines else "log is empty"


class ServiceTarget:
    """Base of the real targets. Subclasses set ``name``, ``options`` and the hooks below."""

    name = "service"
    options: dict[str, str] = {"nodes": "3"}
    packages: dict[str, str] = {}
    """Debian package of each service's binary, installed on a remote node that lacks it."""

    def __init__(self, provider: NodeProvider | None = None) -> None:
        self.provider = provider
        self._own_provider = False
        self.ctx: RunContext | None = None
        self._nodes: list[Node] = []
        self.daemons: dict[str, dict[str, Daemon]] = {}
        self.base: Path = Path()
        self.log_dir: Path = Path()
        self.count = int(self.options.get("nodes", "3"))
        self.installed: dict[str, list[str]] = {}
        self._package_undo: dict[str, list[int | None]] = {}
        self._dir_undo: dict[str, int | None] = {}
        """Packages this run installed, per node, removed again at teardown."""

    # Hooks for subclasses.

    def configure(self, options: dict[str, str]) -> None:
        """Read and check the ``-o`` options; raises HarnessInputError before anything is set up."""
        self.count = option_int(self.options | options, "nodes", 1, MAX_NODES)

    def services(self, node: Node) -> list[str]:
        """Names of the daemons on ``node``, in start order."""
        raise NotImplementedError

    def argv(self, node: Node, service: str) -> list[str]:
        raise NotImplementedError

    def prepare(self, node: Node, service: str) -> None:
        """Write config files and the like before a daemon's first start."""

    def ready(self, node: Node, service: str) -> bool:
        """True when the daemon serves; asked repeatedly until START_TIMEOUT."""
        raise NotImplementedError

    def after_start(self) -> None:
        """Wait for the whole cluster to be usable (a leader, replication links...)."""

    def check(self) -> None:
        """Refuse what cannot run, raising HarnessInputError before anything is created: asked
        once before the nodes are brought up (``self._nodes`` empty), and once after."""

    def package_of(self, node: Node, service: str) -> str | None:
        """The Debian package of a service's binary, installed on a remote node that lacks it."""
        return self.packages.get(service)

    # Lifecycle.

    def run_on(self, provider: NodeProvider) -> None:
        """Use ``provider``'s nodes, and tear it down with the target (``RunsOnHosts``)."""
        self.provider = provider
        self._own_provider = True

    def setup(self, ctx: RunContext) -> None:
        """Bring up nodes and daemons; on any error, tear down what exists and re-raise."""
        try:
            self._setup(ctx)
        except BaseException:
            with contextlib.suppress(Exception):
                self.teardown()
            raise

    def _setup(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.configure(ctx.options)
        self.base = ctx.run_dir / "nodes"
        self.log_dir = ctx.run_dir / "logs"
        self.check()
        if self.provider is None:
            self.provider = LocalNetnsCluster(ctx.run_id, self.count)
            self._own_provider = True
        self._nodes = list(self.provider.setup())
        self.check()
        own_tree = getattr(self.provider, "own_tree", None)
        if callable(own_tree):
            own_tree(self.base)
        for node in self._nodes:
            self._dir_undo[node.name] = undo_later(
                node,
                f"directory {self.node_dir(node)}",
                ["rm", "-rf", "--", str(self.node_dir(node))],
            )
        for node in self._nodes:
            self.ensure_installed(node)
        for node in self._nodes:
            for service in self.services(node):
                self.prepare(node, service)
        for node in self._nodes:
            self._spawn_all(node)
        for node in self._nodes:
            for service in self.services(node):
                self._wait_ready(node, service, START_TIMEOUT)
        self.after_start()

    def ensure_installed(self, node: Node) -> None:
        """Install, with apt, the package of each service binary the node lacks.

        Local namespace nodes share this machine, whose packages the project's set-up installs:
        a binary missing there is refused; remote nodes get what is missing, and teardown
        removes what this run installed.
        """
        for service in self.services(node):
            binary = self.argv(node, service)[0]
            if _has_command(node, binary):
                continue
            if node.kind == "netns":
                raise ServerMissing(f"{node.name}: {service}: no command {binary} on this machine")
            package = self.package_of(node, service)
            if package is None:
                raise ServerMissing(
                    f"{node.name}: {binary} is missing and no package is known for {service}"
                )
            if not _package_installed(node, package):
                result = node.run(_apt(["install", "-y", "-q", package]), timeout=600)
                if not result.ok:
                    raise NodeStartError(
                        f"{node.name}: {binary} is missing and `apt-get install {package}` failed: "
                        f"{(result.stderr or result.stdout).strip().splitlines()[-1:] or ['no output']}"
                    )
                self.installed.setdefault(node.name, []).append(package)
                self._package_undo.setdefault(node.name, []).append(
                    undo_later(node, f"package {package}", _apt(["remove", "-y", "-q", package]))
                )
            if not _has_command(node, binary):
                raise NodeStartError(
                    f"{node.name}: {binary} is still missing after installing {package}"
                )

    def remove_installed(self) -> list[str]:
        """Remove the packages this run installed; returns errors, one line each."""
        errors = []
        for node in self._nodes:
            packages = self.installed.pop(node.name, [])
            if not packages:
                continue
            result = node.run(_apt(["remove", "-y", "-q", *packages]), timeout=600)
            if not result.ok:
                errors.append(f"{node.name}: could not remove {', '.join(packages)}")
                continue
            for step in self._package_undo.pop(node.name, []):
                undone(node, step)
        return errors

    def teardown(self) -> None:
        errors = []
        for node in self._nodes:
            for daemon in self.daemons.get(node.name, {}).values():
                try:
                    node.stop(daemon)
                except NodeError as e:
                    errors.append(str(e))
        self.daemons.clear()
        for node in self._nodes:
            node.remove_tree(self.node_dir(node))
            undone(node, self._dir_undo.pop(node.name, None))
        errors += self.remove_installed()
        with contextlib.suppress(OSError):
            self.base.rmdir()
        if self._own_provider and self.provider is not None:
            self.provider.teardown()
            self.provider = None
            self._own_provider = False
        self._nodes = []
        if errors:
            raise NodeError("; ".join(errors))

    def nodes(self) -> list[str]:
        return [n.name for n in self._nodes]

    def worker_of(self, process: int) -> int:
        """The worker slot a client's process runs in: clients are bound to nodes by it."""
        return self.ctx.worker_of(process) if self.ctx is not None else process

    def node(self, name: str) -> Node:
        for n in self._nodes:
            if n.name == name:
                return n
        raise KeyError(f"{self.name}: no node {name!r}")

    def node_dir(self, node: Node) -> Path:
        return self.base / node.name

    def data_dir(self, node: Node) -> Path:
        return self.node_dir(node) / "data"

    def log_path(self, node: Node, service: str) -> Path:
        return self.log_dir / node.name / f"{service}.log"

    def _spawn_all(self, node: Node) -> None:
        for service in self.services(node):
            self._spawn(node, service)

    def _spawn(self, node: Node, service: str) -> Daemon:
        node.mkdir(self.data_dir(node))
        daemon = node.spawn(
            service, self.argv(node, service), self.log_path(node, service), cwd=None
        )
        self.daemons.setdefault(node.name, {})[service] = daemon
        return daemon

    def _wait_ready(self, node: Node, service: str, timeout: float) -> None:
        daemon = self.daemons[node.name][service]
        deadline = time.monotonic() + timeout
        while True:
            if not node.running(daemon):
                raise NodeStartError(
                    f"{node.name}: {service} exited while starting ({last_line(daemon.log)}); "
                    f"log: {self.log_path(node, service)}"
                )
            with contextlib.suppress(Exception):
                if self.ready(node, service):
                    return
            if time.monotonic() > deadline:
                raise NodeStartError(
                    f"{node.name}: {service} not ready after {timeout:g}s ({last_line(daemon.log)}); "
                    f"log: {self.log_path(node, service)}"
                )
            time.sleep(0.1)

    def kill(self, node: str) -> None:
        """SIGKILL every daemon of the node (their whole process groups)."""
        n = self.node(node)
        for daemon in self.daemons.get(node, {}).values():
            n.stop(daemon)

    def start(self, node: str) -> None:
        """Restart the node's daemons that are not running, on the same data directory."""
        n = self.node(node)
        for service in self.services(n):
            daemon = self.daemons.get(node, {}).get(service)
            if daemon is not None and n.running(daemon):
                continue
            self._spawn(n, service)
            time.sleep(0.2)
            restarted = self.daemons[node][service]
            if not n.running(restarted):
                raise NodeStartError(
                    f"{node}: {service} exited on restart ({last_line(restarted.log)}); "
                    f"log: {self.log_path(n, service)}"
                )

    def pause(self, node: str) -> None:
        n = self.node(node)
        for daemon in self.daemons.get(node, {}).values():
            n.signal(daemon, signal.SIGSTOP)
            daemon.paused = True

    def resume(self, node: str) -> None:
        n = self.node(node)
        for daemon in self.daemons.get(node, {}).values():
            n.signal(daemon, signal.SIGCONT)
            daemon.paused = False

    def collect_logs(self, dest: Path) -> None:
        """Copy every daemon's log to ``dest/NODE/SERVICE.log`` (already there for local nodes)."""
        for node in self._nodes:
            for service in self.services(node):
                src = self.log_path(node, service)
                target = dest / node.name / f"{service}.log"
                if src.resolve() == target.resolve():
                    continue
                with contextlib.suppress(OSError):
                    if node.kind == "netns":
                        target.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(src, target)
                    else:
                        node.download(src, target)


def _apt(args: list[str]) -> list[str]:
    return ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", *args]


def _has_command(node: Node, binary: str) -> bool:
    return node.run(["sh", "-c", 'command -v "$1" >/dev/null', "sh", binary], timeout=30).ok


def _package_installed(node: Node, package: str) -> bool:
    result = node.run(["dpkg-query", "-W", "-f=${Status}", package], timeout=30)
    return result.ok and result.stdout.strip().endswith(" installed")
