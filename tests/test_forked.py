"""Work shared with a forked child (harness/base/forked.py): the same results as without it,
whatever the child does, and the same verdicts from the checker and the check command."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from splitbrain.checkers import linearizable
from splitbrain.harness.base import forked
from splitbrain.harness.base.history import Op
from splitbrain.harness.engine import check


@pytest.fixture
def spare(monkeypatch: pytest.MonkeyPatch) -> None:
    """A core counted as spare whatever the load: these tests are about forking itself."""
    monkeypatch.setattr(forked, "spare_core", lambda: True)


CHILD_AT_WORK = """
import os, sys, time
from splitbrain.harness.base import forked
forked.spare_core = lambda: True
parent = os.getpid()

def square(x):
    time.sleep(0.001)  # long enough for the child to start and take some
    return x * x, os.getpid()

out = forked.share(square, list(range(200)), [1] * 200, 0)
assert [r for r, _ in out] == [x * x for x in range(200)], out
assert {pid for _, pid in out} - {parent}, "no result came from a child"

def dies_in_child(x):
    time.sleep(0.001)
    if os.getpid() != parent and x % 3 == 0:
        os._exit(7)
    return x + 1, os.getpid()

out = forked.share(dies_in_child, list(range(60)), [1] * 60, 0)
assert [r for r, _ in out] == [x + 1 for x in range(60)], out
assert {pid for _, pid in out} == {parent}, "the child's results were kept"
print("ok")
"""


def test_a_child_computes_part_and_what_a_dying_child_took_is_computed_here() -> None:
    """In a fresh interpreter: threads other tests leave behind would rightly stop the fork."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD_AT_WORK], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def _square(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


@pytest.mark.usefixtures("spare")
def test_an_exception_is_raised_here_as_without_a_child() -> None:
    def refuses(x: int) -> int:
        if x == 17:
            raise ValueError("bad item 17")
        return x

    with pytest.raises(ValueError, match="bad item 17"):
        forked.share(refuses, list(range(40)), [1] * 40, 0)


@pytest.mark.usefixtures("spare")
def test_no_fork_while_another_thread_runs_nor_for_little_work() -> None:
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        out = forked.share(_square, list(range(50)), [1] * 50, 0)
    finally:
        stop.set()
        t.join()
    assert {pid for _, pid in out} == {os.getpid()}
    little = forked.share(_square, list(range(50)), [1] * 50, 51)
    assert {pid for _, pid in little} == {os.getpid()}


def _keyed(keys: int, per_key: int, stale_key: int | None, kv: bool = False) -> list[Op]:
    """Sequential write/read pairs on many keys (put/get of strings with ``kv``); on
    ``stale_key`` the last read returns the value written two writes before."""
    ops: list[Op] = []
    write, read_f = ("put", "get") if kv else ("write", "read")
    for k in range(keys):
        for i in range(per_key):
            v = str(i) if kv else i
            ops += [Op("invoke", write, k, v, key=k), Op("ok", write, k, v, key=k)]
            read: Any = i - 2 if k == stale_key and i == per_key - 1 else i
            read = str(read) if kv else read
            ops += [Op("invoke", read_f, k, None, key=k), Op("ok", read_f, k, read, key=k)]
    for i, op in enumerate(ops):
        op.index = i
    return ops


@pytest.mark.usefixtures("spare")
@pytest.mark.parametrize("stale_key", [None, 41])
def test_the_checker_on_both_cores_says_what_it_says_on_one(stale_key: int | None) -> None:
    history = _keyed(80, 130, stale_key)  # 20,800 calls: enough for the child
    one = linearizable.check(history, "cas-register", workers=1)
    heard: list[tuple[int, int]] = []
    both = linearizable.check(
        history, "cas-register", workers=2, progress=lambda *p: heard.append(p)
    )
    assert both == one
    assert one["valid"] is (stale_key is None)
    assert heard == [(n, 80) for n in range(1, 81)]  # every key, in this process


@pytest.mark.usefixtures("spare")
@pytest.mark.parametrize("stale_key", [None, 5])
def test_the_general_search_on_both_cores_says_what_it_says_on_one(stale_key: int | None) -> None:
    history = _keyed(8, 1300, stale_key, kv=True)  # 20,800 calls, none for the fast paths
    one = linearizable.check(history, "kv", workers=1)
    both = linearizable.check(history, "kv", workers=2)
    assert both == one
    assert one["valid"] is (stale_key is None)
    assert one["algorithm"] == "wgl"


@pytest.mark.usefixtures("spare")
def test_the_check_command_on_both_cores_gives_each_file_its_verdict(tmp_path: Path) -> None:
    paths: list[str | Path] = []
    for n, stale in enumerate([None, 3, None, 7]):
        p = tmp_path / f"h{n}.jsonl"
        p.write_text("".join(op.to_json() + "\n" for op in _keyed(20, 60, stale)))
        paths.append(p)
    checker = check.resolve_model("cas-register")
    both = check.check_files(paths, lambda _: checker)
    one = [check.check_file(p, checker) for p in paths]

    def seen(v: check.FileVerdict) -> dict[str, Any]:
        return {"path": v.path, "valid": v.valid, "result": v.result, "ops": v.ops}

    assert [seen(v) for v in both] == [seen(v) for v in one]
    assert [v.valid for v in both] == [True, False, True, False]
