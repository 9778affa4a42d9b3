"""What a run changed on remote (SSH) machines, journaled so a SIGKILLed run can be undone.

Before a run changes a remote machine (starts a daemon, adds an iptables chain, stops NTP,
creates a directory, installs a package) it journals the commands that undo the change;
when its teardown has undone it, it journals that too. ``splitbrain cleanup`` reads the
journals whose owning process is gone, connects with the SSH options they name (host keys
still checked) and runs what is still to undo, newest first. Journals of remote runs live
in the ``ssh`` subdirectory of the journal directory.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from splitbrain.harness.control.journal import Journal, journal_dir, read_entries, stale_journals

log = logging.getLogger("splitbrain.ssh")

SUBDIR = "ssh"


def ssh_journal_dir(directory: Path | None = None) -> Path:
    return (directory or journal_dir()) / SUBDIR


class UndoJournal:
    """One per SSH cluster: undo steps by host, each marked done once teardown took it.
    The file is written from the first step on: a cluster that changes nothing leaves none."""

    def __init__(self, options: dict[str, Any], directory: Path | None = None) -> None:
        self.options = options
        self.directory = ssh_journal_dir(directory)
        self._journal: Journal | None = None
        self._lock = threading.Lock()
        self._next = 1
        self._pending: set[int] = set()

    @property
    def path(self) -> Path | None:
        return self._journal.path if self._journal is not None else None

    def _open(self) -> Journal:
        if self._journal is None:
            tag = f"ssh-{uuid.uuid4().hex[:12]}"
            self._journal = Journal.create(tag, tag, self.directory)
            self._journal.record("ssh-options", options=self.options)
        return self._journal

    def later(self, host: str, port: int, what: str, commands: list[list[str]]) -> int:
        """Journal ``commands`` (argument lists, run in order) that undo ``what`` on ``host``."""
        with self._lock:
            step = self._next
            self._next += 1
            self._open().record("undo", id=step, host=host, port=port, what=what, commands=commands)
            self._pending.add(step)
        return step

    def done(self, step: int) -> None:
        with self._lock:
            if step in self._pending and self._journal is not None:
                self._journal.record("done", id=step)
                self._pending.discard(step)

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def close(self) -> None:
        """Remove the journal if every step was undone; else keep it for ``splitbrain cleanup``."""
        if self._journal is None:
            return
        left = self.pending()
        self._journal.close(remove=left == 0)
        if left:
            log.warning(
                "%d change(s) on remote nodes were not undone; `splitbrain cleanup` will undo them "
                "(journal %s)",
                left,
                self._journal.path,
            )
        self._journal = None


@dataclass
class PendingStep:
    id: int
    host: str
    port: int
    what: str
    commands: list[list[str]]


@dataclass
class RemoteLeftovers:
    """What a killed run left on remote machines, from its journal."""

    options: dict[str, Any] | None
    steps: list[PendingStep] = field(default_factory=list)


def leftovers(path: Path) -> RemoteLeftovers:
    entries = read_entries(path)
    options = next((e["options"] for e in entries if e["kind"] == "ssh-options"), None)
    done = {e["id"] for e in entries if e["kind"] == "done"}
    steps = [
        PendingStep(e["id"], e["host"], int(e.get("port", 22)), e["what"], e["commands"])
        for e in entries
        if e["kind"] == "undo" and e["id"] not in done
    ]
    return RemoteLeftovers(options, steps)


def undo_remote(path: Path) -> tuple[list[str], list[str]]:
    """Undo what the journal at ``path`` still lists, newest first; (undone, errors).

    The journal is removed when nothing is left; a host that cannot be reached keeps it,
    so a later ``splitbrain cleanup`` tries again.
    """
    from splitbrain.harness.control.ssh import SshNode
    from splitbrain.harness.control.sshopts import SshOptions

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


def stale_remote_journals(directory: Path | None = None) -> list[Path]:
    return stale_journals(ssh_journal_dir(directory))
