"""Pure work shared with one forked copy of this process, on a machine with two or more cores.

A forked child inherits what the parent has built (a parsed history, its keys), so nothing
goes to it: it returns only its results, pickled through a pipe. That is what makes two cores
pay for checking: a spawned worker must first import splitbrain and unpickle its share of
the ops, which costs more than checking them. Forking is only safe in a process without
other threads (a thread may hold a lock the child would wait on forever), so with threads
running, on one core, on a saturated machine (a child there only adds the cost of forking:
every page both touch is copied), or for little work, everything runs here.

Whatever the child took and did not return is computed here when it fails in any way (killed,
an exception, results that cannot be pickled): the results, and any exception ``fn`` raises,
are then the same as without the child. The child is killed and reaped if this process is interrupted.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def can_fork() -> bool:
    """Whether a forked child may share the work: two cores or more, no other thread."""
    return (
        hasattr(os, "fork")
        and (os.cpu_count() or 1) > 1
        and threading.active_count() == 1
        and threading.current_thread() is threading.main_thread()
    )


def available() -> bool:
    """Whether a forked child would share work now: it is safe, and the machine has room for it (``spare_core``)."""
    return can_fork() and spare_core()


def spare_core() -> bool:
    """Whether the machine has room for a child: the one-minute load average below twice the
    number of cores. (Measured on 2 shared cores: at load 3-3.6 a child cut the whole check
    of porcupine's etcd logs from 0.87 to 0.70 s; at load 5 it made it slower.)"""
    return os.getloadavg()[0] < 2 * (os.cpu_count() or 1)


_TASK = struct.Struct("=I")
_MAX_TASKS = 16_384
"""What a pipe holds without a reader (64 KiB of task numbers): more items run here."""


def share(
    fn: Callable[[T], R],
    items: Sequence[T],
    weights: Sequence[int],
    min_weight: float,
    done: Callable[[int, R], None] | None = None,
) -> list[R]:
    """``[fn(x) for x in items]``, shared with a forked child when ``available()`` and the
    total weight reaches ``min_weight``. Both take the next item, heaviest first, from one
    pipe of task numbers, so the slowest items spread out by themselves. ``done(i, result)``
    is called here (never in the child) as each result is known, the child's when they
    arrive: for a progress line."""
    n = len(items)
    if n < 2 or n > _MAX_TASKS or sum(weights) < min_weight or not available():
        out = []
        for i, x in enumerate(items):
            out.append(fn(x))
            if done is not None:
                done(i, out[-1])
        return out
    order = sorted(range(n), key=lambda i: -weights[i])
    tasks, task_writer = os.pipe()
    os.write(task_writer, b"".join(_TASK.pack(i) for i in order))
    os.close(task_writer)
    results, result_writer = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child leaves by os._exit, which coverage misses
        _child(fn, items, tasks, results, result_writer, parent)
    os.close(result_writer)
    out: list[Any] = [_MISSING] * n
    reaped = False
    try:
        for i in _taken(tasks):
            out[i] = fn(items[i])
            if done is not None:
                done(i, out[i])
        data = _read_all(results)
        _, status = os.waitpid(pid, 0)
        reaped = True
        for i, r in _results(data, status):
            out[i] = r
            if done is not None:
                done(i, r)
        for i in range(n):
            if out[i] is _MISSING:
                out[i] = fn(items[i])
                if done is not None:
                    done(i, out[i])
    finally:
        os.close(tasks)
        os.close(results)
        if not reaped:
            _kill(pid)
    return out


_MISSING: Any = object()


def _taken(tasks: int) -> Iterator[int]:
    """Task numbers taken from the pipe until it is empty (a read of one number is whole:
    the pipe holds only whole numbers, written before either reader started)."""
    while chunk := os.read(tasks, _TASK.size):
        yield _TASK.unpack(chunk)[0]


def _child(
    fn: Callable[[T], R], items: Sequence[T], tasks: int, results: int, writer: int, parent: int
) -> None:
    """Compute, send, and leave without running anything of the parent's (atexit, buffers).
    A child whose parent is gone (killed outright) stops after the item it is computing."""
    code = 1
    try:
        os.close(results)
        done = []
        for i in _taken(tasks):
            if os.getppid() != parent:
                break
            done.append((i, fn(items[i])))
        data = pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            view = view[os.write(writer, view) :]
        code = 0
    except BaseException:  # noqa: BLE001 - the parent computes what is missing, and raises itself
        code = 1
    finally:
        os._exit(code)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _results(data: bytes, status: int) -> list[tuple[int, Any]]:
    """The child's (task number, result) pairs; none when it failed in any way."""
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return []
    try:
        done = pickle.loads(data)
    except Exception:  # noqa: BLE001 - a torn result: recomputed
        return []
    return done if isinstance(done, list) else []


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
