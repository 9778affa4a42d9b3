"""Queue checker (Jepsen total-queue): lost, duplicated, unexpected, and FIFO order when claimed."""

from __future__ import annotations

from typing import Any

import pytest

from splitbrain.checkers import total_queue
from splitbrain.harness.base.history import BadOp, Op


class H:
    def __init__(self) -> None:
        self.ops: list[Op] = []

    def op(self, typ: str, f: str, process: int, value: Any) -> H:
        self.ops.append(Op(typ, f, process, value, index=len(self.ops)))
        return self

    def enq(self, m: Any, outcome: str = "ok") -> H:
        return self.op("invoke", "enqueue", 0, m).op(outcome, "enqueue", 0, m)

    def deq(self, m: Any) -> H:
        return self.op("invoke", "dequeue", 1, None).op("ok", "dequeue", 1, m)

    def drain(self, ms: list[Any]) -> H:
        return self.op("invoke", "drain", 1, None).op("ok", "drain", 1, ms)


def test_fifo_queue_is_valid() -> None:
    h = H().enq(1).enq(2).enq(3, "info").enq(4, "fail").deq(1).deq(None).drain([2, 3])
    r = total_queue.check(h.ops, fifo=True)
    assert r["valid"] is True
    assert r["lost_count"] == 0 and r["recovered_count"] == 1 and r["fifo_violation_count"] == 0


def test_lost_duplicated_unexpected() -> None:
    h = H().enq(1).enq(2).enq(3, "fail").deq(1).deq(1).drain([3, 7])
    r = total_queue.check(h.ops)
    assert r["valid"] is False
    assert [x["message"] for x in r["lost"]] == [2]
    assert r["duplicated"] == [{"message": 1, "times": 2}]
    assert sorted(x["message"] for x in r["unexpected"]) == [3, 7]
    assert total_queue.check(H().enq(1).deq(1).deq(1).ops, allow_duplicates=True)["valid"] is True


def test_fifo_violation_only_when_claimed() -> None:
    h = H().enq("a").enq("b").deq("b").deq("a")
    assert total_queue.check(h.ops)["valid"] is True
    r = total_queue.check(h.ops, fifo=True)
    assert r["valid"] is False
    assert r["fifo_violations"][0]["earlier"] == "a" and r["fifo_violations"][0]["later"] == "b"


def test_concurrent_enqueues_have_no_order() -> None:
    h = H().op("invoke", "enqueue", 0, "a").op("invoke", "enqueue", 2, "b")
    h.op("ok", "enqueue", 0, "a").op("ok", "enqueue", 2, "b").drain(["b", "a"])
    assert total_queue.check(h.ops, fifo=True)["valid"] is True


def test_bad_drain_value_is_bad_input_not_unknown() -> None:
    with pytest.raises(BadOp, match="not a list"):
        total_queue.check(H().drain(5).ops)  # type: ignore[arg-type]
