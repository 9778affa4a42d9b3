"""The list-append checker: fixtures from Elle, and one small hand-made history per anomaly class."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import shared_histories
from splitbrain.checkers import elle
from splitbrain.checkers.txn import models as cm
from splitbrain.checkers.txn.synth import serializable_history
from splitbrain.harness.base.history import BadOp, Op, read_history

ELLE = shared_histories() / "elle"


def _invoke_value(mops: list[list[Any]]) -> list[list[Any]]:
    return [[f, k, None] if f == "r" else [f, k, v] for f, k, v in mops]


def hist(*txns: tuple[Any, str, list[list[Any]]]) -> list[Op]:
    """Each (process, outcome, mops) becomes an invoke immediately followed by its completion."""
    ops: list[Op] = []
    for process, outcome, mops in txns:
        ops.append(Op("invoke", "txn", process, _invoke_value(mops), index=len(ops)))
        ops.append(Op(outcome, "txn", process, mops, index=len(ops)))
    return ops


def concurrent(*txns: tuple[Any, str, list[list[Any]]]) -> list[Op]:
    """All invocations first, then all completions: no real-time order between them."""
    ops: list[Op] = []
    for process, _, mops in txns:
        ops.append(Op("invoke", "txn", process, _invoke_value(mops), index=len(ops)))
    for process, outcome, mops in txns:
        ops.append(Op(outcome, "txn", process, mops, index=len(ops)))
    return ops


def check(history: list[Op], *models: str) -> dict[str, Any]:
    return elle.check(history, consistency_models=list(models) or None)


def test_si_without_g_single_is_g2_item_and_not_repeatable_read() -> None:
    h = read_history(ELLE / "si-without-g-single.edn").ops
    r = check(h, "snapshot-isolation", "repeatable-read")
    assert r["valid"] is False
    assert r["anomaly_types"] == ["G2-item"]
    assert r["not"] == ["repeatable-read"]
    strict = check(h)
    assert "G2-item" in strict["anomaly_types"]
    assert "repeatable-read" in strict["not"]
    assert check(h, "snapshot-isolation")["valid"] is True


def test_huge_scc_is_not_strong_snapshot_isolation() -> None:
    r = check(read_history(ELLE / "huge-scc.edn").ops)
    assert r["valid"] is False
    assert "strong-snapshot-isolation" in r["not"] + r["also_not"]
    assert "cycle-search-timeout" not in r["anomaly_types"]


def test_paper_example_runs_with_processes_missing() -> None:
    h = read_history(ELLE / "paper-example.edn").ops
    assert all(op.process is None for op in h)
    r = check(h, "serializable")
    assert r["valid"] in (True, False)
    for cases in r["anomalies"].values():
        for c in cases:
            assert "text" in c and len(c["edges"]) == len(c["cycle"])


def test_generated_serializable_history_has_no_anomaly() -> None:
    h = serializable_history(3000, seed=7, concurrency=6)
    r = check(h)
    assert r == {**r, "valid": True, "anomaly_types": [], "anomalies": {}}


def test_g0_write_cycle() -> None:
    h = concurrent(
        (0, "ok", [["append", "x", 1], ["append", "y", 1]]),
        (1, "ok", [["append", "x", 2], ["append", "y", 2]]),
        (2, "ok", [["r", "x", [1, 2]], ["r", "y", [2, 1]]]),
    )
    r = check(h, "read-uncommitted")
    assert r["valid"] is False
    assert r["anomaly_types"] == ["G0"]
    assert r["not"] == ["read-uncommitted"]
    (case,) = r["anomalies"]["G0"]
    assert {e["type"] for e in case["edges"]} == {"ww"}
    assert {e["key"] for e in case["edges"]} == {"x", "y"}


def test_g1a_aborted_read() -> None:
    h = hist((0, "fail", [["append", "x", 1]]), (1, "ok", [["r", "x", [1]]]))
    r = check(h, "read-committed")
    assert r["valid"] is False
    assert "G1a" in r["anomaly_types"]
    assert r["anomalies"]["G1a"][0]["element"] == 1
    assert "G1a" not in check(h, "read-uncommitted")["anomaly_types"]


def test_g1b_intermediate_read() -> None:
    h = hist((0, "ok", [["append", "x", 1], ["append", "x", 2]]), (1, "ok", [["r", "x", [1]]]))
    r = check(h, "read-committed")
    assert r["anomaly_types"] == ["G1b"]
    assert r["valid"] is False


def test_g1c_circular_information_flow() -> None:
    h = concurrent(
        (0, "ok", [["append", "x", 1], ["r", "y", [1]]]),
        (1, "ok", [["append", "x", 2], ["append", "y", 1]]),
        (2, "ok", [["r", "x", [1, 2]]]),
    )
    r = check(h, "read-committed")
    assert r["anomaly_types"] == ["G1c"]
    (case,) = r["anomalies"]["G1c"]
    assert sorted(e["type"] for e in case["edges"]) == ["wr", "ww"]
    assert r["not"] == ["read-committed"]


def test_g_single_read_skew() -> None:
    h = concurrent(
        (0, "ok", [["append", "x", 1], ["append", "y", 1]]),
        (1, "ok", [["append", "x", 2], ["r", "y", None]]),
        (2, "ok", [["r", "x", [1, 2]]]),
    )
    r = check(h, "serializable")
    assert r["anomaly_types"] == ["G-single"]
    (case,) = r["anomalies"]["G-single"]
    assert sorted(e["type"] for e in case["edges"]) == ["rw", "ww"]
    assert set(r["not"]) == {"consistent-view", "repeatable-read"}
    assert check(h, "read-committed")["valid"] is True
    assert check(h, "repeatable-read")["anomaly_types"] == ["G-single"]


def test_g_nonadjacent_long_fork() -> None:
    h = concurrent(
        (0, "ok", [["r", "x", []], ["r", "y", [1]]]),
        (1, "ok", [["append", "x", 1]]),
        (2, "ok", [["r", "x", [1]], ["r", "y", []]]),
        (3, "ok", [["append", "y", 1]]),
    )
    r = check(h, "snapshot-isolation")
    assert r["anomaly_types"] == ["G-nonadjacent"]
    (case,) = r["anomalies"]["G-nonadjacent"]
    assert sorted(e["type"] for e in case["edges"]) == ["rw", "rw", "wr", "wr"]
    assert check(h, "read-committed")["valid"] is True
    assert (
        check(h, "repeatable-read")["valid"] is False
    )  # an item cycle: G-nonadjacent-item is G2-item


def test_g2_item_write_skew() -> None:
    h = concurrent(
        (0, "ok", [["append", "x", 1], ["r", "y", None]]),
        (1, "ok", [["append", "y", 1], ["r", "x", None]]),
    )
    for model in ("serializable", "repeatable-read"):
        r = check(h, model)
        assert r["anomaly_types"] == ["G2-item"]
        assert r["not"] == ["repeatable-read"]
        (case,) = r["anomalies"]["G2-item"]
        assert [e["type"] for e in case["edges"]] == ["rw", "rw"]
    assert check(h, "read-committed")["valid"] is True
    assert check(h, "snapshot-isolation")["valid"] is True


def test_g_single_realtime_stale_read() -> None:
    h = hist(
        (0, "ok", [["append", "x", 1]]),
        (1, "ok", [["append", "x", 2]]),
        (2, "ok", [["r", "x", [1]]]),
        (3, "ok", [["r", "x", [1, 2]]]),
    )
    assert check(h, "serializable")["valid"] is True
    r = check(h, "strict-serializable")
    assert r["anomaly_types"] == ["G-single-realtime"]
    assert r["not"] == ["strong-snapshot-isolation"]
    types = sorted(e["type"] for e in r["anomalies"]["G-single-realtime"][0]["edges"])
    assert types == ["realtime", "rw"]


def test_g_single_process_without_realtime_edges() -> None:
    h = hist(
        (0, "ok", [["append", "x", 1]]),
        (1, "ok", [["append", "x", 2]]),
        (1, "ok", [["r", "x", [1]]]),
        (2, "ok", [["r", "x", [1, 2]]]),
    )
    r = check(h, "strong-session-snapshot-isolation")
    assert r["anomaly_types"] == ["G-single-process"]
    assert r["not"] == ["strong-session-snapshot-isolation"]


def test_internal_inconsistency() -> None:
    h = hist((0, "ok", [["append", "x", 1], ["r", "x", []]]))
    r = check(h, "serializable")
    assert "internal" in r["anomaly_types"]
    assert r["anomalies"]["internal"][0]["expected"] == ["...", 1]


def test_future_read() -> None:
    h = hist((0, "ok", [["r", "x", [1]], ["append", "x", 1]]))
    r = check(h, "read-committed")
    assert "future-read" in r["anomaly_types"]
    assert r["valid"] is False


def test_duplicate_elements() -> None:
    h = hist((0, "ok", [["append", "x", 1]]), (1, "ok", [["r", "x", [1, 1]]]))
    r = check(h, "read-uncommitted")
    assert "duplicate-elements" in r["anomaly_types"]
    assert r["anomalies"]["duplicate-elements"][0]["duplicates"] == {"1": 2}


def test_incompatible_order() -> None:
    h = hist(
        (0, "ok", [["append", "x", 1]]),
        (1, "ok", [["append", "x", 2]]),
        (2, "ok", [["append", "x", 3]]),
        (3, "ok", [["r", "x", [1, 3]]]),
        (4, "ok", [["r", "x", [1, 2, 3]]]),
    )
    r = check(h, "read-committed")
    assert r["anomalies"]["incompatible-order"] == [{"key": "x", "values": [[1, 3], [1, 2, 3]]}]
    assert r["valid"] is False


def test_dirty_update() -> None:
    h = hist(
        (0, "fail", [["append", "x", 1]]),
        (1, "ok", [["append", "x", 2]]),
        (2, "ok", [["r", "x", [1, 2]]]),
    )
    r = check(h, "read-committed")
    assert "dirty-update" in r["anomaly_types"]
    (case,) = r["anomalies"]["dirty-update"]
    assert case["key"] == "x" and case["values"] == [1, 2]


def test_lost_update() -> None:
    h = concurrent(
        (0, "ok", [["append", "x", 1]]),
        (1, "ok", [["r", "x", [1]], ["append", "x", 2]]),
        (2, "ok", [["r", "x", [1]], ["append", "x", 3]]),
    )
    r = check(h, "repeatable-read")
    assert "lost-update" in r["anomaly_types"]
    (case,) = r["anomalies"]["lost-update"]
    assert case["key"] == "x" and case["value"] == [1] and len(case["txns"]) == 2


def test_garbage_read() -> None:
    h = hist((0, "ok", [["append", "x", 1]]), (1, "ok", [["r", "x", [1, 99]]]))
    r = check(h, "read-uncommitted")
    assert "garbage-read" in r["anomaly_types"]
    assert r["anomalies"]["garbage-read"][0]["elements"] == [99]


def test_info_transactions_may_or_may_not_have_happened() -> None:
    h = hist(
        (0, "info", [["append", "x", 1]]),
        (1, "ok", [["r", "x", [1]]]),
        (2, "ok", [["r", "x", [1]]]),
    )
    assert check(h)["valid"] is True


def test_malformed_history_is_bad_input_and_unknown_model_raises() -> None:
    with pytest.raises(BadOp, match="neither append nor r"):
        elle.check(hist((0, "ok", [["write", "x", 1]])))
    with pytest.raises(BadOp, match="more than once"):
        elle.check(hist((0, "ok", [["append", "x", 1]]), (1, "ok", [["append", "x", 1]])))
    with pytest.raises(ValueError, match="unknown consistency model"):
        elle.check([], consistency_models=["linearizable-ish"])


def test_budget_exhaustion_gives_unknown_not_a_guess() -> None:
    h = read_history(ELLE / "huge-scc.edn").ops
    r = elle.check(h, cycle_search_budget=10)
    assert r["valid"] == "unknown"
    assert "cycle-search-timeout" in r["anomaly_types"]


def test_model_lattice() -> None:
    assert "G2-item" in cm.anomalies_prohibited_by(["repeatable-read"])
    assert "G2-item" not in cm.anomalies_prohibited_by(["snapshot-isolation"])
    assert "G-single-realtime" in cm.anomalies_prohibited_by(["strict-serializable"])
    assert cm.boundary(["G1c"])["not"] == ["read-committed"]
    assert cm.boundary(["G0"])["not"] == ["read-uncommitted"]
