"""SIGTERM and SIGHUP end a run as Ctrl-C does.

CI cancellation, ``timeout`` and container stops send SIGTERM; a closed terminal sends
SIGHUP. While a run is under way (``interrupts()``), both raise ``Interrupted`` (a
``KeyboardInterrupt``) in the main thread, so the run tears down, checks and stores the
history recorded so far, and the command exits 130 whichever signal it was. While it tears
down (``deferred()``), every further SIGINT, SIGTERM and SIGHUP is noted and ignored:
a second Ctrl-C must not leave half a cluster behind.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal; ``signum`` says which."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def signal_name(e: BaseException) -> str:
    """``SIGTERM`` for an ``Interrupted``, ``SIGINT`` for a plain Ctrl-C."""
    return signal.Signals(getattr(e, "signum", signal.SIGINT)).name


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


@contextmanager
def _handlers(handler: object) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, handler) for s in SIGNALS}  # type: ignore[arg-type]
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


@contextmanager
def interrupts() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP raise ``Interrupted`` in the main thread meanwhile."""
    with _handlers(_raise):
        yield


@contextmanager
def deferred(received: list[int] | None = None) -> Iterator[list[int]]:
    """SIGINT, SIGTERM and SIGHUP are noted in the yielded list, and otherwise ignored."""
    noted: list[int] = [] if received is None else received

    def note(signum: int, _frame: FrameType | None) -> None:
        noted.append(signum)

    with _handlers(note):
        yield noted


@contextmanager
def postponed() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP received meanwhile are delivered again when it ends, to
    the handlers in force before: for a step that must not be cut in two. A fork: Python
    runs at-fork hooks (logging's lock release among them) where an exception from a
    signal handler is printed and dropped, which loses the signal and leaves logging's
    lock held, so the next log call hangs. Making a journal and keeping it: cut between
    the two, the journal file stays and teardown does not know it."""
    with deferred() as noted:
        yield
    for signum in dict.fromkeys(noted):
        signal.raise_signal(signum)
