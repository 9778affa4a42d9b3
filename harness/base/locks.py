"""Synchronisation for the hot loop that does not convoy on the GIL.

A ``threading.Lock`` wanted by many threads of one process collapses throughput when its
holder is preempted inside the critical section: the waiters block in the kernel, and
each release hands the lock to a thread that must then wait for the GIL, so every later
acquisition costs a context switch. With 10 workers that turned 45,000 ops/s on one
worker into 16,000. ``YieldingLock`` is only ever taken by a thread that holds the GIL;
a thread that finds it taken gives the GIL away (``sched_yield``) and tries again, so
the holder runs on and no queue forms. It is for critical sections of a few
microseconds of Python, never for waiting on I/O.

``write_all`` appends bytes to a file with a plain ``write(2)`` that keeps the
GIL, for the same reason: ``os.write`` releases it, and at two lines per op the hand-over
to another worker and back costs more than the write itself.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from collections.abc import Callable

_yield = os.sched_yield if hasattr(os, "sched_yield") else lambda: time.sleep(0)


def take(lock: threading.Lock) -> None:
    """Acquire ``lock`` without queueing for it in the kernel. Hot paths inline the
    first try, ``if not lock.acquire(False): take(lock)``, and call this on contention."""
    try_lock = lock.acquire
    while not try_lock(False):
        _yield()


class YieldingLock:
    """A non-reentrant lock with the interface of ``threading.Lock`` (usable in a Condition)."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        try_lock = self._lock.acquire
        if try_lock(False):
            return True
        if not blocking:
            return False
        deadline = None if timeout < 0 else time.monotonic() + timeout
        while True:
            _yield()
            if try_lock(False):
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False

    def release(self) -> None:
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def __enter__(self) -> bool:
        if not self._lock.acquire(False):
            take(self._lock)
        return True

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def _gil_holding_write() -> Callable[[int, bytes, int], int] | None:
    try:
        write = ctypes.PyDLL(None, use_errno=True).write
    except (OSError, AttributeError):
        return None
    write.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t)
    write.restype = ctypes.c_ssize_t
    return write  # type: ignore[no-any-return]


def _releasing_write(fd: int, data: bytes, size: int) -> int:
    return os.write(fd, data)


_write_some: Callable[[int, bytes, int], int] = _gil_holding_write() or _releasing_write
"""``_write_some(fd, data, len(data))``: write(2), keeping the GIL where libc allows; returns
what write(2) returns (-1 on error)."""


def _write_rest(fd: int, data: bytes, written: int) -> None:
    """Finish a write that ``_write_some`` left short, or raise the OSError it hit."""
    if written < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    view = memoryview(data)[written:]
    while view:
        view = view[os.write(fd, view) :]


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` or raise OSError; keeps the GIL where libc allows."""
    size = len(data)
    written = _write_some(fd, data, size)
    if written != size:
        _write_rest(fd, data, written)
