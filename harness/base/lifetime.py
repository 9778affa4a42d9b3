"""What a one-shot command leaves to the operating system: the large objects it is done with.

Freeing a checked history of 200,000 ops and its per-key calls takes 0.06 s, a tenth of a
whole ``splitbrain check``; a process that is about to end can leave them, since the
operating system takes its memory back at once. ``console`` (the ``splitbrain`` command)
marks the process as one-shot and ends it with ``os._exit`` after the exit handlers and a
flush; ``keep`` holds an object until then. Anywhere else (a library caller, a test calling
``cli.main``) the process goes on, nothing is kept, and everything is freed as usual.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import Any, NoReturn

KEPT_WEIGHT_MAX = 2_000_000
"""At most this much weight (history entries) is kept, about 1.4 GB: checking many large
files in one command must not hold them all. (Freeing 2,000,000 entries takes 1.6 s.)"""

_kept: list[Any] = []
_state = {"one_shot": False, "weight": 0}


def keep(obj: Any, weight: int) -> None:
    """Hold ``obj`` (of ``weight`` ops) until a one-shot process ends, instead of freeing it
    now; elsewhere, or past ``KEPT_WEIGHT_MAX``, it is freed as usual."""
    if _state["one_shot"] and _state["weight"] + weight <= KEPT_WEIGHT_MAX:
        _state["weight"] += weight
        _kept.append(obj)


def one_shot() -> None:
    """Mark this process as one that ends when its command returns (``end``)."""
    _state["one_shot"] = True


def end(code: int) -> NoReturn:
    """End the process with ``code``: exit handlers and a flush of the standard streams,
    then ``os._exit``, which frees nothing. With another thread still running, the usual
    exit, which waits for it."""
    if threading.active_count() > 1:
        sys.exit(code)
    try:
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
    finally:
        os._exit(code)
