"""The node interface every target and nemesis uses, whatever reaches the node.

Local network-namespace nodes (``harness.control.netns``) and remote SSH nodes satisfy
the same ``Node`` protocol, so a target or a nemesis never knows which one it drives.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from splitbrain.harness.base.errors import HarnessFailure, HarnessInputError


class NodeError(HarnessFailure, RuntimeError):
    """A command or daemon on a node failed; the message names the node."""


NO_SPACE = (os.strerror(errno.ENOSPC).lower(), "out of disk space")
"""How a server says its disk is full (the C library's words; InnoDB's): the line of a
failed command's output that names the reason, rather than its last line."""


class NodeStartError(NodeError):
    """A server on a node did not come up; the message names the node and its log.

    The server or its environment failed (it exited, or never became ready): exit 255."""


class ServerMissing(NodeStartError, HarnessInputError):
    """The command a target names for a server is not on the node, and no package is known
    that provides it: the target's (or its ``-o`` options') to fix, so exit 254."""


@dataclass
class CommandResult:
    node: str
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def check(self) -> CommandResult:
        """Self if the command succeeded, else a NodeError naming node, command and stderr."""
        if not self.ok:
            detail = (self.stderr or self.stdout).strip().splitlines()
            full = [line for line in detail if any(w in line.lower() for w in NO_SPACE)]
            last = (full or detail or ["no output"])[-1]
            raise NodeError(
                f"{self.node}: `{' '.join(self.argv)}` exited {self.returncode}: {last}"
            )
        return self


@dataclass
class Daemon:
    """A long-running process on a node, in its own process group, logging to ``log``."""

    node: str
    name: str
    argv: list[str]
    log: Path
    """Path of the log file on the node (for local nodes, on this machine)."""
    pgid: int = 0
    paused: bool = False
    extra: dict[str, object] = field(default_factory=dict)


@runtime_checkable
class Node(Protocol):
    """One machine of a cluster, as far as targets and nemeses need it."""

    name: str
    address: str
    """IPv4 address the other nodes and the clients reach this node at."""
    interface: str
    """The node's network interface towards the other nodes (for tc and iptables)."""
    kind: str
    """``netns`` for local namespace nodes, ``ssh`` for remote ones."""

    def run(
        self, argv: list[str], timeout: float = 30.0, input: str | None = None
    ) -> CommandResult:
        """Run a command on the node and wait for it; never raises on a non-zero exit."""

    def spawn(self, name: str, argv: list[str], log: Path, cwd: Path | None = None) -> Daemon:
        """Start a daemon in its own process group, stdout and stderr appended to ``log``."""

    def signal(self, daemon: Daemon, sig: int) -> None:
        """Send ``sig`` to the daemon's whole process group (a no-op if it is gone)."""

    def running(self, daemon: Daemon) -> bool: ...

    def stop(self, daemon: Daemon, timeout: float = 10.0) -> None:
        """SIGKILL the daemon's process group and wait for it to be gone."""

    def upload(self, local: Path, remote: Path) -> None: ...

    def download(self, remote: Path, local: Path) -> None: ...

    def mkdir(self, path: Path) -> None: ...

    def remove_tree(self, path: Path) -> None: ...


def undo_later(node: Node, what: str, *commands: list[str]) -> int | None:
    """Journal how to undo a change ``node`` is about to get, for ``splitbrain cleanup`` after a
    killed run. Remote nodes only: a local node's namespace takes its changes with it."""
    later = getattr(node, "undo_later", None)
    return later(what, *commands) if later is not None else None


def undone(node: Node, step: int | None) -> None:
    """The change journaled as ``step`` has been undone by the run itself."""
    if step is not None:
        node.undone(step)  # type: ignore[attr-defined]
