"""The rw-register checker: one small hand-made history per anomaly (several after Elle's own
rw-register tests), what each assumption adds, serial executions always valid, and the way in
from EDN and the command line."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_cli
from splitbrain.checkers import transactional
from splitbrain.checkers.models import ModelInputError
from splitbrain.checkers.txn import rw_register
from splitbrain.checkers.txn.core import BadHistory
from splitbrain.checkers.txn.synth import serializable_history
from splitbrain.harness.base.errors import HarnessInputError
from splitbrain.harness.base.explain import explain
from splitbrain.harness.base.history import Op, read_history
from splitbrain.harness.front import gate
from splitbrain.harness.report.results import cycle_svg

pytest_plugins = ["pytester"]

Spec = tuple[Any, str, str]
"""(process, outcome, micro-ops in Elle's test notation: ``rx1wy2``, ``_`` for nil)."""


def mops(text: str) -> list[list[Any]]:
    out = []
    for f, k, v in re.findall(r"([rw])([a-z])(\d+|_)", text):
        out.append([f, k, None if v == "_" else int(v)])
    assert "".join(f"{f}{k}{'_' if v is None else v}" for f, k, v in out) == text
    return out


def _invoke(ms: list[list[Any]]) -> list[list[Any]]:
    return [[f, k, None] if f == "r" else [f, k, v] for f, k, v in ms]


def serial(*txns: Spec) -> list[Op]:
    """Each transaction completes before the next is invoked."""
    ops: list[Op] = []
    for p, outcome, text in txns:
        ms = mops(text)
        ops.append(Op("invoke", "txn", p, _invoke(ms), index=len(ops)))
        ops.append(Op(outcome, "txn", p, ms, index=len(ops)))
    return ops


def concurrent(*txns: Spec) -> list[Op]:
    """Every transaction invoked before any completes: no real-time order among them."""
    ops: list[Op] = []
    for p, _, text in txns:
        ops.append(Op("invoke", "txn", p, _invoke(mops(text)), index=len(ops)))
    for p, outcome, text in txns:
        ops.append(Op(outcome, "txn", p, mops(text), index=len(ops)))
    return ops


def check(history: list[Op], *models: str, **kw: Any) -> dict[str, Any]:
    return rw_register.check(history, consistency_models=list(models) or None, **kw)


def anomaly_check(history: list[Op], *anomalies: str, **kw: Any) -> dict[str, Any]:
    return rw_register.check(history, consistency_models=[], anomalies=anomalies, **kw)


# ---------------------------------------------------------------- one history per anomaly


def test_g0_needs_sequential_keys_to_order_the_writes() -> None:
    # Elle's G0: T1 and T2 write x and y in opposite orders; later reads by each process
    # show x = 2 and y = 2, so with sequential keys x: 1 < 2 (T1 < T2), y: 1 < 2 (T2 < T1).
    h = serial((0, "ok", "wx1wy2"), (1, "ok", "wx2wy1"), (0, "ok", "rx2"), (1, "ok", "ry2"))
    assert anomaly_check(h, "G0")["valid"] is True
    r = anomaly_check(h, "G0", assume=["sequential-keys"])
    assert r["valid"] is False
    assert r["anomaly_types"] == ["G0"]
    assert r["not"] == ["read-uncommitted"]
    assert [e["type"] for e in r["anomalies"]["G0"][0]["edges"]] == ["ww", "ww"]
    assert "sequential-keys" in r["version_order_sources"]
    # Without any read nothing orders the writes, so some order serializes them: valid, and
    # said to be vacuous (Elle says unknown; here unknown means only out of time or memory).
    r = anomaly_check(serial((0, "ok", "wx1wy2"), (1, "ok", "wx2wy1")), "G0")
    assert r["valid"] is True and r["anomaly_types"] == []
    assert r["vacuous"] == "no dependencies between transactions"


def test_g1a_aborted_read() -> None:
    h = serial((0, "fail", "wx1"), (1, "ok", "rx1"))
    r = check(h, "read-committed")
    assert r["valid"] is False
    assert "G1a" in r["anomaly_types"]
    assert r["not"] == ["read-committed"]
    case = r["anomalies"]["G1a"][0]
    assert case["writer"]["type"] == "fail" and case["element"] == 1
    assert check(h, "read-uncommitted")["valid"] != False  # noqa: E712 (unknown: no edges)


def test_g1b_intermediate_read() -> None:
    h = serial((0, "ok", "wx1wx2"), (1, "ok", "rx1"))
    r = check(h, "read-committed")
    assert r["valid"] is False and "G1b" in r["anomaly_types"]
    assert r["anomalies"]["G1b"][0]["mop"] == ["r", "x", 1]
    # The final write read is no anomaly.
    assert check(serial((0, "ok", "wx1wx2"), (1, "ok", "rx2")), "read-committed")["valid"] is True


def test_g1c_circular_information_flow() -> None:
    h = concurrent((0, "ok", "wx1ry1"), (1, "ok", "wy1rx1"))
    assert check(h, "read-uncommitted")["valid"] is True
    r = check(h, "read-committed")
    assert r["valid"] is False and r["anomaly_types"] == ["G1c"]
    assert r["not"] == ["read-committed"]
    assert [e["type"] for e in r["anomalies"]["G1c"][0]["edges"]] == ["wr", "wr"]
    assert anomaly_check(h, "G2")["valid"] is True


def test_g_single_from_the_initial_state() -> None:
    # Elle's "initial state": T1 reads x = nil but y = 1, which T2 wrote with x = 2.
    m1, m2 = mops("rx_ry1"), mops("wy1wx2")
    h = [
        Op("invoke", "txn", 0, _invoke(m1), index=0),
        Op("invoke", "txn", 1, _invoke(m2), index=1),
        Op("ok", "txn", 1, m2, index=2),
        Op("ok", "txn", 0, m1, index=3),
    ]
    r = check(h, "serializable")
    assert r["valid"] is False and r["anomaly_types"] == ["G-single"]
    assert r["not"] == ["consistent-view", "repeatable-read"]
    edges = r["anomalies"]["G-single"][0]["edges"]
    assert [(e["type"], e["key"], e["value"]) for e in edges] == [("rw", "x", None), ("wr", "y", 1)]
    assert check(h, "read-committed")["valid"] is True


def test_g_nonadjacent() -> None:
    # T1 -rw-> T2 -wr-> T3 -rw-> T4 -wr-> T1: two anti-dependencies, never adjacent.
    h = concurrent(
        (0, "ok", "rx_rw1"), (1, "ok", "wx1wy1"), (2, "ok", "ry1rz_"), (3, "ok", "wz1ww1")
    )
    r = check(h, "snapshot-isolation")
    assert r["valid"] is False and r["anomaly_types"] == ["G-nonadjacent"]
    assert [e["type"] for e in r["anomalies"]["G-nonadjacent"][0]["edges"]] == [
        "rw",
        "wr",
        "rw",
        "wr",
    ]
    assert check(h, "consistent-view")["valid"] is True


def test_g2_item_write_skew() -> None:
    h = concurrent((0, "ok", "rx_ry_wx1"), (1, "ok", "rx_ry_wy1"))
    r = check(h, "serializable")
    assert r["valid"] is False and r["anomaly_types"] == ["G2-item"]
    assert r["not"] == ["repeatable-read"]
    assert check(h, "snapshot-isolation")["valid"] is True


def test_g2_item_of_elle_needs_linearizable_keys() -> None:
    # Elle's G2-item: x and y are both 1 at first (T1 sees it); T2 and T3 each advance one.
    # Only the linearizable-key assumption orders T1's 1s before the 2s.
    m1, m2, m3 = mops("rx1ry1"), mops("rx1wy2"), mops("ry1wx2")
    h = [
        Op("invoke", "txn", 0, _invoke(m1), index=0),
        Op("ok", "txn", 0, m1, index=1),
        Op("invoke", "txn", 1, _invoke(m2), index=2),
        Op("invoke", "txn", 2, _invoke(m3), index=3),
        Op("ok", "txn", 2, m3, index=4),
        Op("ok", "txn", 1, m2, index=5),
    ]
    # Elle: unknown. Here unknown means only out of time or memory, and nothing but the
    # unwritten 1s relates these transactions, so the history is refused as undecidable.
    with pytest.raises(ModelInputError, match=r"reads x = 1, a value no transaction .* wrote"):
        check(h, "serializable")
    r = check(h, "serializable", assume=["linearizable-keys"])
    assert r["valid"] is False and r["anomaly_types"] == ["G2-item"]
    assert check(h, "read-committed", assume=["linearizable-keys"])["valid"] is True


def test_process_and_realtime_variants() -> None:
    # One process writes x then reads nil: the anti-dependency goes back in its own order.
    same = serial((0, "ok", "wx1"), (0, "ok", "rx_"))
    assert check(same, "snapshot-isolation")["valid"] is True
    r = check(same, "strong-session-snapshot-isolation")
    assert r["valid"] is False and r["anomaly_types"] == ["G-single-process"]
    assert [e["type"] for e in r["anomalies"]["G-single-process"][0]["edges"]] == [
        "rw",
        "process",
    ]
    # Two processes, one after the other in real time.
    apart = serial((0, "ok", "wx1"), (1, "ok", "rx_"))
    assert check(apart, "strong-session-snapshot-isolation")["valid"] is True
    r = check(apart)
    assert r["valid"] is False and r["anomaly_types"] == ["G-single-realtime"]
    assert r["not"] == ["strong-snapshot-isolation"]


def test_internal_inconsistency() -> None:
    r = anomaly_check(serial((0, "ok", "rx1rx2")), "internal")
    assert r["valid"] is False
    assert r["anomalies"]["internal"] == [
        {
            "op": {"index": 1, "process": 0, "type": "ok", "value": [["r", "x", 1], ["r", "x", 2]]},
            "mop": ["r", "x", 2],
            "expected": 1,
        }
    ]
    assert r["not"] == ["read-atomic"]
    after_write = check(serial((0, "ok", "wx1rx2")), "serializable")
    assert after_write["anomalies"]["internal"][0]["expected"] == 1
    # A nil read then a value is a non-repeatable read too (Elle lets this one through).
    assert "internal" in check(serial((0, "ok", "rx_rx3")), "serializable")["anomaly_types"]
    ok = anomaly_check(serial((0, "ok", "ry2wx2rx2wx1rx1")), "internal")
    assert "internal" not in ok["anomaly_types"]


def test_lost_update() -> None:
    h = concurrent((0, "ok", "rx_wx1"), (1, "ok", "rx_wx2"))
    r = check(h, "cursor-stability")
    assert r["valid"] is False and r["anomaly_types"] == ["lost-update"]
    assert r["anomalies"]["lost-update"][0]["key"] == "x"
    assert r["anomalies"]["lost-update"][0]["value"] is None
    assert set(r["not"]) == {"ROLA", "cursor-stability"}
    assert check(h, "read-committed")["valid"] is True
    assert check(h, "serializable")["anomaly_types"] == ["G2-item", "lost-update"]


def test_dirty_update() -> None:
    # T2 read the failed T1's 1 and wrote 2 over it: a committed write right after an aborted one.
    h = serial((0, "fail", "wx1"), (1, "ok", "rx1wx2"))
    r = check(h, "read-committed", assume=["wfr-keys"])
    assert r["valid"] is False
    assert {"G1a", "dirty-update"} <= set(r["anomaly_types"])
    case = r["anomalies"]["dirty-update"][0]
    assert case["key"] == "x" and case["values"] == [1, 2]
    assert [t["type"] for t in case["txns"]] == ["fail", "ok"]


def test_future_read() -> None:
    r = check(serial((0, "ok", "rx1wx1")), "read-atomic")
    assert r["valid"] is False and "future-read" in r["anomaly_types"]


def test_cyclic_versions_drop_the_source_that_closes_them() -> None:
    # Elle's "cyclic version order": one process writes 1, then 2, then reads 1.
    h = serial((0, "ok", "wx1"), (0, "ok", "wx2"), (0, "ok", "rx1"))
    r = check(h, assume=["sequential-keys"])
    assert r["valid"] is False and r["anomaly_types"] == ["cyclic-versions"]
    assert r["anomalies"]["cyclic-versions"] == [
        {
            "key": "x",
            "scc": [1, 2],
            "sources": ["initial-state", "sequential-keys"],
        }
    ]
    assert r["not"] == ["read-uncommitted"]
    assert "sequential-keys" not in r["version_order_sources"]
    # A read that returns to nil after a value closes a cycle through the initial state.
    back = serial((0, "ok", "wx1"), (0, "ok", "rx1"), (0, "ok", "rx_"))
    assert "cyclic-versions" in check(back, assume=["sequential-keys"])["anomaly_types"]


def test_each_assumption_adds_version_order() -> None:
    h = _p0_reads_then_writes()
    assert check(h, "serializable")["valid"] is True
    r = check(h, "serializable", assume=["sequential-keys"])
    assert r["valid"] is False and r["anomaly_types"] == ["G-single"]
    assert "sequential-keys" in r["assumptions"]
    # wfr-keys orders versions inside one transaction only: p0 reads and writes x in two.
    assert check(h, "serializable", assume=["wfr-keys"])["valid"] is True


def _p0_reads_then_writes() -> list[Op]:
    """p0 reads x = 1 (written by p1), then writes x = 2, y = 5; p2, concurrent with all of
    it, reads y = 5 and x = 1. Only an order of p0's transactions says 1 < 2."""
    w1, r1, w2, r2 = mops("wx1"), mops("rx1"), mops("wx2wy5"), mops("ry5rx1")
    return [
        Op("invoke", "txn", 2, _invoke(r2), index=0),
        Op("invoke", "txn", 1, _invoke(w1), index=1),
        Op("ok", "txn", 1, w1, index=2),
        Op("invoke", "txn", 0, _invoke(r1), index=3),
        Op("ok", "txn", 0, r1, index=4),
        Op("invoke", "txn", 0, _invoke(w2), index=5),
        Op("ok", "txn", 0, w2, index=6),
        Op("ok", "txn", 2, r2, index=7),
    ]


def test_writes_follow_reads_inside_a_transaction_orders_when_assumed() -> None:
    # Elle's "wfr" case: T1 read y = 1 and wrote y = 2, so 1 < 2; T2 read x from T1 but y = 1.
    # Valid without the assumption (Elle's own test says so), G-single with it.
    h = serial((0, "ok", "ry1wx1wy2"), (0, "ok", "rx1ry1"))
    assert check(h, "serializable")["valid"] is True
    r = check(h, "serializable", assume=["wfr-keys"])
    assert r["valid"] is False and r["anomaly_types"] == ["G-single"]
    edges = r["anomalies"]["G-single"][0]["edges"]
    assert {(e["type"], e["key"]) for e in edges} == {("rw", "y"), ("wr", "x")}


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([["append", "x", 1]], "neither w nor r"),
        ([["w", "x", None]], "write of nil"),
        ([["w", "x"]], "is not [f, key, value]"),
        ("wx1", "not a list of micro-ops"),
    ],
)
def test_malformed_histories_are_bad_input(value: Any, message: str) -> None:
    h = [Op("invoke", "txn", 0, value, index=0), Op("ok", "txn", 0, value, index=1)]
    with pytest.raises(BadHistory, match=re.escape(message)):
        rw_register.check(h)


def test_duplicate_writes_and_unknown_assumptions_are_refused() -> None:
    with pytest.raises(BadHistory, match="more than once"):
        rw_register.check(serial((0, "ok", "wx1"), (1, "ok", "wx1")))
    with pytest.raises(ValueError, match="unknown assumption"):
        rw_register.check(serial((0, "ok", "wx1")), assume=["causal-keys"])


def test_the_data_type_comes_from_the_micro_ops() -> None:
    rw = serial((0, "ok", "wx1"), (1, "ok", "rx1"))
    assert transactional.data_type(rw) == "rw-register"
    assert transactional.data_type(serial((0, "ok", "rx3"))) == "rw-register"
    append = [Op("ok", "txn", 0, [["append", "x", 1], ["r", "x", [1]]], index=0)]
    assert transactional.data_type(append) == "list-append"
    with pytest.raises(BadHistory, match="one history holds one data type"):
        transactional.data_type(append + rw)
    with pytest.raises(ValueError, match="is for rw-register"):
        transactional.check(append, assume=["wfr-keys"])


# ---------------------------------------------------------------- serial executions are valid


@st.composite
def serial_executions(draw: st.DrawFn) -> list[Op]:
    """Transactions over a few keys run one at a time by random processes: a serial history,
    strictly serializable with every key linearizable."""
    state: dict[str, int] = {}
    counter = 0
    ops: list[Op] = []
    for _ in range(draw(st.integers(2, 12))):
        txn = []
        for _ in range(draw(st.integers(1, 4))):
            k = draw(st.sampled_from("xyz"))
            if draw(st.booleans()):
                counter += 1
                state[k] = counter
                txn.append(["w", k, counter])
            else:
                txn.append(["r", k, state.get(k)])
        p = draw(st.integers(0, 3))
        ops.append(Op("invoke", "txn", p, _invoke(txn), index=len(ops)))
        ops.append(Op("ok", "txn", p, txn, index=len(ops)))
    return ops


@settings(max_examples=150, deadline=None)
@given(serial_executions())
def test_a_serial_execution_is_always_valid(history: list[Op]) -> None:
    r = rw_register.check(history, assume=rw_register.ASSUMPTIONS)
    assert r["valid"] is True, r
    assert r["version_order_sources"][-1] == "linearizable-keys"


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 12), st.integers(1, 6))
def test_a_concurrent_serializable_history_is_valid(seed: int, keys: int, max_len: int) -> None:
    history = serializable_history(
        300, seed=seed, key_count=keys, max_len=max_len, data_type="rw-register"
    )
    r = rw_register.check(history, assume=rw_register.ASSUMPTIONS)
    assert r["valid"] is True, r["anomaly_types"]


# ---------------------------------------------------------------- words and drawings


def test_explanation_and_drawing_of_a_real_cycle() -> None:
    r = check(concurrent((0, "ok", "rx_ry_wx1"), (1, "ok", "rx_ry_wy1")), "serializable")
    lines = explain(r)
    assert lines[0] == "serializable is violated: G2-item (1)"
    text = "\n".join(lines)
    assert 'read key "y" in its initial (null) state, and T2 set it to 1' in text
    assert "a contradiction!" in text
    case = r["anomalies"]["G2-item"][0]
    svg = cycle_svg(case["cycle"], case["edges"])
    assert svg.count('class="edge edge-rw"') == 2 and svg.count('class="txn"') == 2
    tips = re.findall(r"<title>([^<]*)</title>", html.unescape(svg))
    assert 'T1 → T2: rw "y", null then 1' in tips and 'T2 → T1: rw "x", null then 1' in tips


def test_explanations_of_anomalies_without_a_cycle() -> None:
    lost = explain(check(concurrent((0, "ok", "rx_wx1"), (1, "ok", "rx_wx2")), "cursor-stability"))
    assert any('all read key "x" as null and all wrote it' in line for line in lost)
    g1b = "\n".join(explain(check(serial((0, "ok", "wx1wx2"), (1, "ok", "rx1")), "read-committed")))
    assert "saw value 1, an intermediate version: its writer wrote that key again" in g1b
    cyclic = check(
        serial((0, "ok", "wx1"), (0, "ok", "wx2"), (0, "ok", "rx1")), assume=["sequential-keys"]
    )
    assert any(
        "ordered in a cycle by initial-state, sequential-keys" in line for line in explain(cyclic)
    )
    internal = explain(check(serial((0, "ok", "wx1rx2")), "serializable"))
    assert internal[2] == "internal, first example:"


# ---------------------------------------------------------------- from files and the CLI

G_SINGLE_EDN = """\
{:type :invoke, :f :txn, :value [[:r :x nil] [:r :y nil]], :process 0, :time 1, :index 0}
{:type :invoke, :f :txn, :value [[:w :y 1] [:w :x 2]], :process 1, :time 2, :index 1}
{:type :ok, :f :txn, :value [[:w :y 1] [:w :x 2]], :process 1, :time 3, :index 2}
{:type :ok, :f :txn, :value [[:r :x nil] [:r :y 1]], :process 0, :time 4, :index 3}
"""


def test_edn_history_reads_as_rw_register(tmp_path: Path) -> None:
    path = tmp_path / "g-single.edn"
    path.write_text(G_SINGLE_EDN)
    ops = read_history(path).ops
    assert ops[3].value == [["r", "x", None], ["r", "y", 1]]
    assert transactional.data_type(ops) == "rw-register"
    r = rw_register.check(ops, consistency_models=["serializable"])
    assert r["anomaly_types"] == ["G-single"]


def test_check_command_exit_codes(tmp_path: Path) -> None:
    edn = tmp_path / "g-single.edn"
    edn.write_text(G_SINGLE_EDN)
    jsonl = tmp_path / "write-skew.jsonl"
    jsonl.write_text(
        "".join(
            json.dumps(op.to_dict()) + "\n"
            for op in concurrent((0, "ok", "rx_ry_wx1"), (1, "ok", "rx_ry_wy1"))
        )
    )
    lone = tmp_path / "lone.jsonl"
    lone.write_text("".join(json.dumps(op.to_dict()) + "\n" for op in serial((0, "ok", "wx1"))))
    mixed = tmp_path / "mixed.edn"
    mixed.write_text(
        "{:type :ok, :f :txn, :value [[:append :x 1]], :process 0, :index 0}\n"
        "{:type :ok, :f :txn, :value [[:w :y 1]], :process 0, :index 1}\n"
    )
    cases = [
        ((str(edn), str(jsonl), "--model", "serializable", "--json"), 1),
        ((str(edn), str(jsonl), "--model", "read-committed", "--assume", "wfr-keys"), 0),
        ((str(lone), "--model", "serializable"), 0),
        ((str(edn), "--model", "serializable", "--assume", "causal-keys"), 254),
        ((str(edn), "--model", "register", "--assume", "wfr-keys"), 254),
        ((str(edn), "--model", "rw-register", "--assume", "wfr-keys"), 1),
    ]
    out = {}
    for args, code in cases:
        r = run_cli("check", *args)
        assert r.returncode == code, (args, r.stdout, r.stderr)
        if code == 254:
            assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
        out[args] = r.stdout
    verdicts = [json.loads(line) for line in out[cases[0][0]].splitlines()]
    assert [v["result"]["anomaly_types"] for v in verdicts] == [["G-single"], ["G2-item"]]
    r = run_cli("check", str(mixed), "--model", "serializable")
    assert f"{mixed}:2:" in r.stderr and "one history holds one data type" in r.stderr


# ---------------------------------------------------------------- the memory target


def test_memory_target_runs_rw_register_and_stale_reads_are_caught(tmp_path: Path) -> None:
    base = ("test", "--workload", "rw-register", "--time-limit", "1", "--rate", "1000")
    base += ("--seed", "5", "--store", str(tmp_path), "--assume", "wfr-keys")
    r = run_cli(*base, "--assume", "linearizable-keys", "-o", "fault=stale-reads")
    assert r.returncode == 1, r.stdout + r.stderr
    run = tmp_path / "latest"
    result = json.loads((run / "results.json").read_text())["checkers"]["elle-rw-register"]
    assert result["valid"] is False
    assert result["assumptions"] == ["linearizable-keys", "wfr-keys"]
    assert json.loads((run / "test.json").read_text())["assume"] == [
        "wfr-keys",
        "linearizable-keys",
    ]
    assert "--assume wfr-keys --assume linearizable-keys" in r.stdout
    assert 'class="cycle"' in (run / "report.html").read_text()
    ok = run_cli(*base, "--name", "clean")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    refused = run_cli(
        "test", "--workload", "list-append", "--assume", "wfr-keys", "--store", str(tmp_path)
    )
    assert refused.returncode == 254
    assert refused.stderr.strip() == (
        "splitbrain: --assume wfr-keys: workload 'list-append' makes no use of it"
    )


# ---------------------------------------------------------------- claims and the pytest plugin

CLAIMS = """\
defaults:
  workload: rw-register
  time_limit: 1
  rate: 1000
  seed: 5
claims:
  - name: rw-clean
    assume: [wfr-keys, sequential-keys]
  - name: rw-stale
    assume: linearizable-keys
    options: {fault: stale-reads}
    expect: violated
"""


def test_claims_take_assume_and_refuse_unknown_ones(tmp_path: Path) -> None:
    path = tmp_path / "claims.yaml"
    path.write_text(CLAIMS)
    clean, stale = gate.load_claims(path)
    assert clean.build_spec().assume == ["wfr-keys", "sequential-keys"]
    assert stale.build_spec().assume == ["linearizable-keys"]
    path.write_text(CLAIMS.replace("assume: linearizable-keys", "assume: [causal-keys]"))
    with pytest.raises(HarnessInputError, match="key 'assume': must be any of sequential-keys"):
        gate.load_claims(path)
    path.write_text(CLAIMS.replace("workload: rw-register", "workload: list-append"))
    with pytest.raises(HarnessInputError, match="workload 'list-append' makes no use of it"):
        gate.load_claims(path)


def test_marker_and_fixture_take_assume(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        QUICK = dict(workload="rw-register", time_limit=1, rate=1000, seed=5)

        @pytest.mark.consistency(
            assume=["linearizable-keys"], options={"fault": "stale-reads"}, expect="violated", **QUICK
        )
        def test_stale_reads_are_caught(splitbrain_result):
            assert splitbrain_result.checkers["elle-rw-register"]["assumptions"] == ["linearizable-keys"]

        def test_fixture(splitbrain):
            r = splitbrain.run(assume="wfr-keys,sequential-keys", **QUICK)
            assert r.checkers["elle-rw-register"]["valid"] is True
        """
    )
    outcome = pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", f"--splitbrain-store={pytester.path}"
    )
    outcome.assert_outcomes(passed=2)


def test_a_search_out_of_budget_is_unknown_never_a_guess() -> None:
    h = concurrent((0, "ok", "rx_ry_wx1"), (1, "ok", "rx_ry_wy1"))
    r = rw_register.check(h, consistency_models=["serializable"], cycle_search_budget=1)
    assert r["valid"] == "unknown"
    assert r["anomaly_types"] == ["cycle-search-timeout"]
