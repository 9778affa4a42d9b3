"""An append-only journal of what a run set up, written before each step.

A run killed with SIGKILL cannot tear down; ``splitbrain cleanup`` reads the journals of
runs whose owning process is gone and undoes every step they name. Journals live in
``/run/splitbrain`` (a tmpfs cleared on reboot, as namespaces are) unless
``SPLITBRAIN_JOURNAL_DIR`` says otherwise.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JOURNAL_DIR_ENV = "SPLITBRAIN_JOURNAL_DIR"
DEFAULT_JOURNAL_DIR = Path("/run/splitbrain")
SUFFIX = ".journal"


def journal_dir() -> Path:
    return Path(os.environ.get(JOURNAL_DIR_ENV) or DEFAULT_JOURNAL_DIR)


def process_start_time(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot, or None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19])


@dataclass
class Owner:
    pid: int
    start_time: int | None

    @classmethod
    def me(cls) -> Owner:
        return cls(os.getpid(), process_start_time(os.getpid()))

    def alive(self) -> bool:
        return self.start_time is not None and process_start_time(self.pid) == self.start_time


class Journal:
    """JSON lines, each flushed and fsynced before the step it names is taken."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")

    @classmethod
    def create(cls, run_id: str, tag: str, directory: Path | None = None) -> Journal:
        journal = cls((directory or journal_dir()) / f"{tag}{SUFFIX}")
        owner = Owner.me()
        journal.record("owner", run_id=run_id, pid=owner.pid, start_time=owner.start_time)
        return journal

    def record(self, kind: str, **fields: Any) -> None:
        self._file.write(json.dumps({"kind": kind, **fields}) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self, remove: bool = False) -> None:
        if not self._file.closed:
            self._file.close()
        if remove:
            self.path.unlink(missing_ok=True)


def read_entries(path: Path) -> list[dict[str, Any]]:
    """The journal's entries; a torn last line (the writer was killed mid-write) is skipped."""
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and "kind" in entry:
            entries.append(entry)
    return entries


def owner_of(entries: list[dict[str, Any]]) -> Owner | None:
    for entry in entries:
        if entry["kind"] == "owner":
            return Owner(int(entry["pid"]), entry.get("start_time"))
    return None


def stale_journals(directory: Path | None = None) -> list[Path]:
    """Journals whose owning process is gone: what killed runs left behind."""
    directory = directory or journal_dir()
    if not directory.is_dir():
        return []
    stale = []
    for path in sorted(directory.glob(f"*{SUFFIX}")):
        owner = owner_of(read_entries(path))
        if owner is None or not owner.alive():
            stale.append(path)
    return stale
