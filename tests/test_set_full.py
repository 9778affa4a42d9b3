"""Set checker (Jepsen set-full): stable, lost, stale, never-read and unexpected elements, and latencies."""

from __future__ import annotations

from typing import Any

import pytest

from splitbrain.checkers import set_full
from splitbrain.harness.base.history import BadOp, Op

MS = 1_000_000


class H:
    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.t = 0

    def op(self, typ: str, f: str, process: int, value: Any, dt_ms: int = 1) -> H:
        self.t += dt_ms * MS
        self.ops.append(Op(typ, f, process, value, index=len(self.ops), time=self.t))
        return self

    def add(self, process: int, e: Any, outcome: str = "ok") -> H:
        return self.op("invoke", "add", process, e).op(outcome, "add", process, e)

    def read(self, process: int, value: list[Any], dt_ms: int = 1) -> H:
        return self.op("invoke", "read", process, None, dt_ms).op("ok", "read", process, value)


def test_all_stable_with_latency() -> None:
    h = H().add(0, 1).add(0, 2).read(1, [1], dt_ms=10).read(1, [1, 2], dt_ms=10).read(1, [1, 2])
    r = set_full.check(h.ops)
    assert r["valid"] is True
    assert r["stable_count"] == 2 and r["lost_count"] == 0
    assert r["stale_count"] == 1  # 2 was missing from the first read after its ack
    assert r["stable_latency_ms"]["max"] == 21.0
    assert r["stable_latency_ms"]["median"] is not None


def test_lost_element_is_found() -> None:
    h = H().add(0, 1).add(0, 2).read(1, [1, 2]).read(1, [1])
    r = set_full.check(h.ops)
    assert r["valid"] is False
    assert r["lost_count"] == 1
    (lost,) = r["lost"]
    assert lost["element"] == 2 and lost["last_seen_index"] == 5 and lost["last_absent_index"] == 7


def test_never_read_unexpected_and_failed_adds() -> None:
    h = H().read(1, []).add(0, 1).add(0, 2, "fail").add(0, 3, "info")
    r = set_full.check(h.ops)
    assert r["valid"] is True
    assert r["never_read"] == [1]
    h.read(1, [1, 2, 3, 9])
    r = set_full.check(h.ops)
    assert r["valid"] is False
    assert sorted(u["element"] for u in r["unexpected"]) == [2, 9]
    assert r["stable_count"] == 2  # 1, and 3 whose add was indeterminate


def test_stale_reads_fail_only_a_linearizable_claim() -> None:
    h = H().add(0, 1).read(1, []).read(1, [1])
    assert set_full.check(h.ops)["valid"] is True
    assert set_full.check(h.ops, linearizable=True)["valid"] is False


def test_element_seen_before_its_add_completes_is_known_then() -> None:
    h = H().op("invoke", "add", 0, 5).read(1, [5]).read(2, []).op("info", "add", 0, 5)
    r = set_full.check(h.ops)
    assert r["lost_count"] == 1
    assert r["valid"] is False


def test_bad_read_value_is_bad_input_not_unknown() -> None:
    h = H().read(1, "nope")  # type: ignore[arg-type]
    with pytest.raises(BadOp, match="not a collection"):
        set_full.check(h.ops)
