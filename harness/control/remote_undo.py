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

from splitbrain.harness.base import signals
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
            with signals.postponed():
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


def stale_remote_journals(directory: Path | None = None) -> list[Path]:
    return stale_journals(ssh_journal_dir(directory))
