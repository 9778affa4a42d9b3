"""Counter checker: reads must lie between the acknowledged and the attempted sums."""

from __future__ import annotations

from typing import Any

import pytest

from splitbrain.checkers import counter
from splitbrain.harness.base.history import BadOp, Op
from splitbrain.harness.base.protocols import HarnessInputError
from splitbrain.harness.engine import core


class H:
    def __init__(self) -> None:
        self.ops: list[Op] = []

    def op(self, typ: str, f: str, process: int, value: Any) -> H:
        self.ops.append(Op(typ, f, process, value, index=len(self.ops)))
        return self


def test_valid_concurrent_increments_and_decrements() -> None:
    h = (
        H()
        .op("invoke", "add", 0, 5)
        .op("ok", "add", 0, 5)
        .op("invoke", "add", 1, -2)
        .op("invoke", "read", 2, None)
        .op("ok", "read", 2, 3)  # the decrement may have happened
        .op("invoke", "read", 3, None)
        .op("ok", "read", 3, 5)  # or not
        .op("info", "add", 1, -2)
        .op("invoke", "read", 2, None)
        .op("ok", "read", 2, 3)
    )
    r = counter.check(h.ops)
    assert r["valid"] is True
    assert r["reads"] == 3 and r["error_count"] == 0
    assert r["acknowledged_sum"] == 5 and r["attempted_sum"] == 3


def test_acknowledged_increment_missing_is_found() -> None:
    h = (
        H()
        .op("invoke", "add", 0, 1)
        .op("ok", "add", 0, 1)
        .op("invoke", "read", 1, None)
        .op("ok", "read", 1, 0)
    )
    r = counter.check(h.ops)
    assert r["valid"] is False
    assert r["errors"] == [{"index": 3, "process": 1, "value": 0, "lower": 1, "upper": 1}]


def test_read_above_every_possible_sum_is_found() -> None:
    h = (
        H()
        .op("invoke", "add", 0, 1)
        .op("invoke", "read", 1, None)
        .op("ok", "read", 1, 1)
        .op("ok", "add", 0, 1)
        .op("invoke", "add", 0, 2)
        .op("fail", "add", 0, 2)
        .op("invoke", "read", 1, None)
        .op("ok", "read", 1, 3)
    )
    r = counter.check(h.ops)
    assert r["valid"] is False
    assert r["error_count"] == 1
    assert r["errors"][0]["value"] == 3 and r["errors"][0]["upper"] == 1


def test_initial_value_and_bad_input() -> None:
    h = H().op("invoke", "read", 0, None).op("ok", "read", 0, 10)
    assert counter.check(h.ops, initial=10)["valid"] is True
    assert counter.check(h.ops)["valid"] is False
    bad = H().op("invoke", "add", 0, "x").op("ok", "add", 0, "x")
    with pytest.raises(BadOp, match="add value 'x' is not a number"):
        counter.check(bad.ops)  # bad input, never an unknown verdict


def test_a_run_whose_ops_a_checker_cannot_read_is_bad_input_not_unknown() -> None:
    bad = H().op("invoke", "add", 0, "x").op("ok", "add", 0, "x")
    with pytest.raises(HarnessInputError, match="checker counter: history.jsonl: op at index 1"):
        core.check_history(bad.ops, {"counter": counter.check})
