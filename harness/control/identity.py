"""Run identities unique on this machine, whatever the seed and the clock.

A run's namespaces, links, iptables chains and journal are named after ``run_tag(run_id)``.
Seed and stamp alone can repeat (the same ``--seed`` started twice in one millisecond), so
every run id gets a random component, and the tag it hashes to is claimed before use: an
``flock`` on ``ids/TAG.lock`` in the journal directory, held for the run's life (the kernel
drops it when the process dies). A tag is also skipped while a journal of that tag exists:
a killed run's leftovers keep their names until ``splitbrain cleanup`` removes them.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import tempfile
from pathlib import Path
from typing import IO

from splitbrain.harness.control.journal import SUFFIX, journal_dir
from splitbrain.harness.control.netns import run_tag

ATTEMPTS = 1000


def _ids_directory() -> Path:
    """``JOURNAL_DIR/ids``; where that cannot be made (not root), a per-user temp directory."""
    for directory in (
        journal_dir() / "ids",
        Path(tempfile.gettempdir()) / f"splitbrain-ids-{os.getuid()}",
    ):
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(directory, os.W_OK):
            return directory
    raise OSError(f"no writable directory for run identities under {journal_dir()}")


class RunIdentity:
    """A claimed run id; ``release()`` (or process death) frees its tag."""

    def __init__(self, run_id: str, lock: IO[str], lock_path: Path) -> None:
        self.run_id = run_id
        self.tag = run_tag(run_id)
        self._lock = lock
        self._lock_path = lock_path

    def release(self) -> None:
        if self._lock.closed:
            return
        self._lock_path.unlink(missing_ok=True)
        self._lock.close()


def _try_claim(directory: Path, tag: str) -> IO[str] | None:
    path = directory / f"{tag}.lock"
    f = path.open("a")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        return None
    try:
        same = os.fstat(f.fileno()).st_ino == path.stat().st_ino
    except FileNotFoundError:
        same = False  # released and unlinked between our open and our flock
    if not same or (journal_dir() / f"{tag}{SUFFIX}").exists():
        f.close()
        return None
    return f


def claim(prefix: str) -> RunIdentity:
    """A run id ``PREFIX-RANDOM`` whose tag no other live run, nor a killed run's leftovers, has."""
    directory = _ids_directory()
    for _ in range(ATTEMPTS):
        run_id = f"{prefix}-{secrets.token_hex(4)}"
        lock = _try_claim(directory, run_tag(run_id))
        if lock is not None:
            return RunIdentity(run_id, lock, directory / f"{run_tag(run_id)}.lock")
    raise OSError(f"could not claim a free run tag in {directory} after {ATTEMPTS} attempts")
