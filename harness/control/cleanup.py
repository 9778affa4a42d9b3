"""``splitbrain cleanup``: undo what runs killed with SIGKILL left behind.

Every run journals each step before it takes it, in the journal directory
(``/run/splitbrain`` unless ``SPLITBRAIN_JOURNAL_DIR`` says otherwise), not in the store. A
journal whose owning process is gone belongs to a killed run: local namespaces, links, their
processes and the nodes' data directories are removed (a journal whose steps could not all be
undone is kept, and reported); on remote (SSH) nodes the journaled undo commands still
pending run over SSH (host keys checked as in the run).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from splitbrain.harness.control.journal import read_entries
from splitbrain.harness.control.netns import cleanup_stale, leftovers
from splitbrain.harness.control.remote_undo import stale_remote_journals

log = logging.getLogger("splitbrain")


def cleanup_store() -> tuple[int, list[str]]:
    """Clean up every killed run; returns (how many runs had a journal, errors).
    Journals are kept in the journal directory, not in a store, so no store is needed."""
    cleaned = cleanup_stale()
    for journal, removed in cleaned.items():
        log.info("cleaned up %s: %s", journal, ", ".join(removed) or "nothing left")
        print(f"{journal}: removed {', '.join(removed) or 'nothing (already gone)'}")
    errors = [
        f"{journal}: could not remove {', '.join(left)}"
        for journal in cleaned
        if Path(journal).exists() and (left := leftovers(read_entries(Path(journal))))
    ]
    for line in errors:
        print(line, file=sys.stderr)
    remote = stale_remote_journals()
    if remote:
        from splitbrain.harness.control.ssh import undo_remote  # paramiko, only when needed
    for journal in remote:
        undone, failed = undo_remote(journal)
        for line in undone:
            print(f"{journal}: undid {line}")
        for line in failed:
            print(f"{journal}: {line}", file=sys.stderr)
        errors += failed
    return len(cleaned) + len(remote), errors
