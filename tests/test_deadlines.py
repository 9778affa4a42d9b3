"""The engine keeps --op-timeout for every target: a call past its deadline is recorded
``info`` at the deadline, the slot goes on as a new process with a new client, and a call
that never returns does not hold up the run or its teardown."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import splitbrain
from splitbrain.harness.base.history import Op, read_history
from splitbrain.targets.memory import MemoryClient, MemoryTarget

RELEASE = threading.Event()
"""Set by the test once the run is over, so the calls stuck forever can end."""


class SleepyClient(MemoryClient):
    """A memory client that sleeps 1.5 s on every 25th write and hangs on every 40th read."""

    calls = 0

    def invoke(self, op: Op) -> Op:
        SleepyClient.calls += 1
        if op.f == "write" and SleepyClient.calls % 25 == 0:
            time.sleep(1.5)
        if op.f == "read" and SleepyClient.calls % 40 == 0:
            RELEASE.wait()
        return super().invoke(op)


class SleepyTarget(MemoryTarget):
    name = "sleepy"
    opened: list[int] = []

    def client(self, process: int) -> MemoryClient:
        assert self.store is not None
        SleepyTarget.opened.append(process)
        return SleepyClient(self.store, self._operations)


@pytest.fixture
def sleepy() -> None:
    SleepyClient.calls = 0
    SleepyTarget.opened = []
    RELEASE.clear()


def test_a_call_past_the_op_timeout_is_info_at_the_deadline(sleepy: None, tmp_path: Path) -> None:
    spec = splitbrain.TestSpec(
        target=SleepyTarget(), time_limit=2.0, rate=200, op_timeout=0.2, store=str(tmp_path), seed=3
    )
    started = time.monotonic()
    try:
        result = splitbrain.run(spec)
    finally:
        wall = time.monotonic() - started
        RELEASE.set()
    history = result.history
    timeouts = [o for o in history if o.type == "info" and "timeout" in str(o.error)]
    assert len(timeouts) >= 3, [o.to_dict() for o in timeouts]
    assert {o.f for o in timeouts} == {"read", "write"}
    for info in timeouts:
        invoke = next(o for o in reversed(history[: info.index]) if o.process == info.process)
        assert invoke.type == "invoke"
        took = (info.time - invoke.time) / 1e9
        assert 0.2 <= took < 0.6, f"process {info.process}: info after {took:.3f}s"
        assert not [o for o in history[info.index + 1 :] if o.process == info.process]
        if info.time < (spec.time_limit - 0.5) * 1e9:
            successor = info.process + spec.concurrency
            assert successor in SleepyTarget.opened, "the slot goes on with a new client"
            assert [o for o in history[info.index :] if o.process == successor]
    assert wall < spec.time_limit + 5, f"a call that never returns held the run for {wall:.1f}s"
    opened = [o for o in history if o.type == "invoke"]
    assert len(opened) == sum(1 for o in history if o.type != "invoke")
    assert result.valid is True


def test_calls_that_return_after_abandonment_record_nothing(sleepy: None, tmp_path: Path) -> None:
    spec = splitbrain.TestSpec(
        target=SleepyTarget(), time_limit=1.0, rate=200, op_timeout=0.1, store=str(tmp_path), seed=4
    )
    result = splitbrain.run(spec)
    on_disk = (result.run_dir / "history.jsonl").read_bytes()
    recorded = len(result.history)
    RELEASE.set()
    time.sleep(1.6)  # every sleeping and released call has returned by now
    assert len(result.history) == recorded
    assert (result.run_dir / "history.jsonl").read_bytes() == on_disk
    assert len(read_history(result.run_dir / "history.jsonl").ops) == recorded
