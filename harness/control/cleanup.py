"""``splitbrain cleanup``: undo what runs killed with SIGKILL left behind.

Local clusters journal every step in the journal directory (``/run/splitbrain`` unless
``SPLITBRAIN_JOURNAL_DIR`` says otherwise), not in the store: a journal whose owning
process is gone belongs to a killed run, and everything it names is removed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from harness.control.netns import cleanup_stale

log = logging.getLogger("splitbrain")


def cleanup_store(store: Path | None = None) -> int:
    """Clean up every killed run; returns how many runs had something left. ``store`` is unused."""
    cleaned = cleanup_stale()
    for journal, removed in cleaned.items():
        log.info("cleaned up %s: %s", journal, ", ".join(removed) or "nothing left")
        print(f"{journal}: removed {', '.join(removed) or 'nothing (already gone)'}")
    return len(cleaned)
