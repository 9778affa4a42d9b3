"""The hot loop's synchronisation: locks that do not convoy, writes that keep the GIL."""

from __future__ import annotations

import errno
import json
import os
import threading
import time
from pathlib import Path

import pytest

from splitbrain.harness.base import locks
from splitbrain.harness.base.history import HistoryWriter, Op, _encode, read_history


def test_yielding_lock_excludes_other_threads() -> None:
    lock = locks.YieldingLock()
    inside = []
    overlaps = 0
    count = 0

    def work() -> None:
        nonlocal overlaps, count
        for _ in range(2000):
            with lock:
                inside.append(1)
                if len(inside) > 1:
                    overlaps += 1
                value = count
                if value % 5 == 0:
                    time.sleep(0)  # hands the GIL to a thread that will try the lock
                count = value + 1
                inside.pop()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == 0
    assert count == 8 * 2000


def test_take_waits_for_a_lock_held_by_another_thread() -> None:
    lock = threading.Lock()
    lock.acquire()
    got = threading.Event()

    def taker() -> None:
        locks.take(lock)
        got.set()
        lock.release()

    t = threading.Thread(target=taker)
    t.start()
    assert not got.wait(0.2)
    lock.release()
    assert got.wait(5)
    t.join()


def test_yielding_lock_non_blocking_and_timeout() -> None:
    lock = locks.YieldingLock()
    assert lock.acquire()
    assert lock.locked()
    assert lock.acquire(blocking=False) is False
    started = time.monotonic()
    assert lock.acquire(timeout=0.1) is False
    assert time.monotonic() - started >= 0.1
    lock.release()
    assert lock.acquire(blocking=False) is True
    lock.release()
    assert not lock.locked()


def test_yielding_lock_serves_a_condition() -> None:
    cond = threading.Condition(locks.YieldingLock())
    ready = []

    def producer() -> None:
        time.sleep(0.05)
        with cond:
            ready.append(1)
            cond.notify_all()

    t = threading.Thread(target=producer)
    t.start()
    with cond:
        assert cond.wait_for(lambda: ready, timeout=5)
    t.join()


def test_write_all_writes_every_byte(tmp_path: Path) -> None:
    path = tmp_path / "out"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        locks.write_all(fd, b"first\n")
        locks.write_all(fd, b"x" * 300_000 + b"\n")
    finally:
        os.close(fd)
    assert path.read_bytes() == b"first\n" + b"x" * 300_000 + b"\n"


def test_write_error_is_an_oserror_naming_the_cause(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "ro", os.O_RDONLY | os.O_CREAT)
    try:
        with pytest.raises(OSError) as e:
            locks.write_all(fd, b"line\n")
    finally:
        os.close(fd)
    assert e.value.errno == errno.EBADF


def test_concurrent_writer_keeps_file_index_and_memory_in_one_order(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    writer = HistoryWriter(path)
    ticks = iter(range(10**9))
    clock_lock = threading.Lock()

    def clock() -> int:
        with clock_lock:
            return next(ticks)

    def worker(p: int) -> None:
        for i in range(500):
            writer.append(Op(type="invoke", f="write", process=p, value=i, key=p % 3), clock)
            writer.append(Op(type="ok", f="write", process=p, value=i, key=p % 3), clock)

    threads = [threading.Thread(target=worker, args=(p,)) for p in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 10_000
    indexes = [json.loads(line)["index"] for line in lines]
    assert indexes == list(range(10_000))
    times = [json.loads(line)["time"] for line in lines]
    assert times == sorted(times)
    assert read_history(path).ops == list(writer.ops)


@pytest.mark.parametrize(
    "value",
    [
        None,
        0,
        -7,
        2**70,
        True,
        1.5,
        float("nan"),
        "k7",
        'é\n"',
        [1, 4],
        [None, [2, []]],
        ("t", 1),
        {"a": [1]},
        frozenset({3}),
    ],
)
def test_op_line_is_the_json_encoding_of_the_op(value: object) -> None:
    for op in (
        Op(type="invoke", f="cas", process=3, value=value, key=value, time=12, index=4),
        Op(type="info", f="é", process="nemesis", value=value, node="n1", error=value, index=0),
        Op(type="ok", f="read", process=True, value=value, key=None, extra={"x": value}),
    ):
        assert op.to_json() == _encode(op.to_dict())
