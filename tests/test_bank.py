"""Jepsen's bank: the checker on small histories, and real runs on the memory target (valid,
torn transfers, overdrafts) judged, explained and drawn from their own results."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from conftest import run_cli
from splitbrain.checkers import bank
from splitbrain.harness.base.explain import explain
from splitbrain.harness.base.history import BadOp, Op


def history(*steps: tuple[int, str, str, Any]) -> list[Op]:
    """(process, type, f, value) steps, indexed and timed 1 ms apart."""
    ops = [Op(typ, f, p, value) for p, typ, f, value in steps]
    for i, op in enumerate(ops):
        op.index, op.time = i, (i + 1) * 1_000_000
    return ops


def transfer(p: int, outcome: str, a: int, b: int, n: int) -> list[tuple[int, str, str, Any]]:
    t = {"from": a, "to": b, "amount": n}
    return [(p, "invoke", "transfer", t), (p, outcome, "transfer", t)]


def read(p: int, balances: dict[Any, Any]) -> list[tuple[int, str, str, Any]]:
    return [(p, "invoke", "read", None), (p, "ok", "read", balances)]


def test_info_transfers_may_or_may_not_have_happened_and_the_total_holds_either_way() -> None:
    """A transfer that timed out (info) and one that failed: reads showing it applied and not
    applied are both right; JSON's string account names read as the numbers they are."""
    h = history(
        *read(0, {0: 10, 1: 0, 2: 0}),
        *transfer(1, "info", 0, 1, 3),
        *transfer(2, "fail", 0, 2, 20),
        *read(0, {0: 10, 1: 0, 2: 0}),
        *read(3, {"0": 7, "1": 3, "2": 0}),
        *transfer(4, "ok", 1, 2, 3),
        (5, "invoke", "transfer", {"from": 2, "to": 0, "amount": 1}),
        *read(0, {"0": 7, "1": 0, "2": 3}),
    )
    r = bank.check(h, accounts=3, total=10)
    assert r["valid"] is True, r
    assert (r["read_count"], r["bad_read_count"]) == (4, 0)
    assert r["transfer_count"] == {"ok": 1, "fail": 1, "info": 2}
    assert [p[:3] for p in r["reads_over_time"]] == [
        [2_000_000, 10, []],
        [8_000_000, 10, []],
        [10_000_000, 10, []],
        [15_000_000, 10, []],
    ]
    assert explain(r) == []


def test_every_problem_of_every_bad_read_with_its_time_and_op() -> None:
    h = history(
        *read(0, {0: 10, 1: 0, 2: 0}),
        *read(1, {0: 7, 1: 0, 2: 0}),  # a transfer's debit without its credit
        *read(2, {0: 10, 1: None}),  # account 2 absent, account 1 null
        *read(3, {0: 12, 1: -2, 2: 0, 9: 0}),  # overdraft, and an account that does not exist
        *read(4, {0: 11, 1: 0, 2: 0}),
    )
    r = bank.check(h, accounts=3, total=10)
    assert r["valid"] is False
    assert (r["read_count"], r["bad_read_count"]) == (5, 4)
    assert r["problem_counts"] == {"wrong-total": 2, "missing": 1, "unexpected": 1, "negative": 1}
    assert (r["lowest_total"], r["highest_total"]) == (7, 11)
    first, missing, overdraft, too_much = r["bad_reads"]
    assert (first["index"], first["time"], first["process"]) == (3, 4_000_000, 1)
    assert first["problems"] == ["wrong-total"] and first["total"] == 7
    assert first["op"]["value"] == {0: 7, 1: 0, 2: 0} and first["op"]["type"] == "ok"
    assert missing["problems"] == ["missing"] and missing["missing"] == [1, 2]
    assert overdraft["problems"] == ["unexpected", "negative"]
    assert (overdraft["unexpected"], overdraft["negative"]) == ([9], {1: -2})
    assert too_much["problems"] == ["wrong-total"]
    assert [p[2] for p in r["reads_over_time"]] == [[], *(b["problems"] for b in r["bad_reads"])]

    lines = explain(r)
    assert (
        lines[0]
        == "4 of 5 reads are bad: each must show 10 in total over 3 accounts, none below zero"
    )
    assert lines[1] == (
        "by problem: 2 wrong totals, 1 read missing accounts, 1 read with unknown accounts, "
        "1 read with a negative balance"
    )
    assert lines[2:] == [
        "  at 0.004 s, process 1 read a total of 7 (3 short) (history 3)",
        "  at 0.006 s, process 2 read no balance for account 1, 2 (history 5)",
        "  at 0.008 s, process 3 read unknown account 9; account 1 at -2 (below zero) (history 7)",
        "1 more bad read; each is in the report",
    ]

    allowed = bank.check(h, accounts=3, total=10, negative_balances=True)
    assert allowed["problem_counts"]["negative"] == 0 and allowed["bad_read_count"] == 4


def test_a_read_that_is_not_a_map_of_numbers_is_bad_input() -> None:
    with pytest.raises(BadOp, match="not a map of account to balance") as e:
        bank.check(history(*read(0, [10, 0])))
    assert e.value.index == 1
    with pytest.raises(BadOp, match="balance 'ten' of account 0 is not a number"):
        bank.check(history(*read(0, {0: "ten"})))


def test_a_long_series_keeps_every_bad_read_and_thins_the_good(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bank, "SERIES_LIMIT", 10)
    steps = [s for i in range(40) for s in read(0, {0: 9 if i in (5, 33) else 10})]
    r = bank.check(history(*steps), accounts=1, total=10)
    drawn = r["reads_over_time"]
    assert len(drawn) == 10 and r["reads_over_time_thinned"] is True
    assert [p[3] for p in drawn if p[2]] == [11, 67]
    good = [p[3] for p in drawn if not p[2]]
    assert good[0] == 1 and all(b - a >= 8 for a, b in zip(good, good[1:], strict=False))


# ---------------------------------------------------------------- real runs on the memory target

MARK = re.compile(r'<g class="bank-bad ([a-z-]+)">')


QUICK = ("--time-limit", "1", "--rate", "1000", "--seed", "3")
"""A second of ops at 1000/s: hundreds of transfers, so each fault tears or overdraws many."""


def bank_run(tmp_path: Path, *args: str) -> tuple[int, str, dict[str, Any], str]:
    r = run_cli("test", "--workload", "bank", *QUICK, "--store", str(tmp_path), *args)
    run = tmp_path / "latest"
    results = json.loads((run / "results.json").read_text())["checkers"]["bank"]
    return r.returncode, r.stdout + r.stderr, results, (run / "report.html").read_text()


def chart_of(page: str) -> str:
    start = page.index('<div class="bank-chart">')
    return page[start : page.index("</figure>", start)]


def test_atomic_transfers_are_valid_with_the_accounts_and_total_given(tmp_path: Path) -> None:
    code, out, r, page = bank_run(
        tmp_path, "-w", "accounts=3", "-w", "total=30", "-w", "max-transfer=40"
    )
    assert code == 0, out
    assert (r["valid"], r["accounts"], r["total"], r["bad_read_count"]) == (True, 3, 30, 0)
    assert r["read_count"] > 100 and r["transfer_count"]["ok"] > 50
    assert r["transfer_count"]["fail"] > 0, "transfers beyond the balance must be refused"
    assert (r["lowest_total"], r["highest_total"]) == (30, 30)
    history = [json.loads(line) for line in (tmp_path / "latest" / "history.jsonl").open()]
    reads = [op["value"] for op in history if op["f"] == "read" and op["type"] == "ok"]
    assert all(sorted(v) == ["0", "1", "2"] and min(v.values()) >= 0 for v in reads)
    chart = chart_of(page)
    assert "0 of" in chart and MARK.search(chart) is None
    dots = chart[chart.index('<g class="bank-reads">') :].split("</g>", 1)[0]
    assert dots.count("<circle") == r["read_count"]
    assert 'class="bank-expected"' in chart


@pytest.mark.parametrize(
    ("fault", "problem", "words"),
    [
        ("torn-transfers", "wrong-total", re.compile(r"read a total of \d+ \(\d+ short\)")),
        ("overdrafts", "negative", re.compile(r"account \d+ at -\d+ \(below zero\)")),
    ],
    ids=["torn-transfers", "overdrafts"],
)
def test_a_broken_store_is_caught_explained_and_drawn(
    tmp_path: Path, fault: str, problem: str, words: re.Pattern[str]
) -> None:
    code, out, r, page = bank_run(tmp_path, "-o", f"fault={fault}")
    assert code == 1, out
    assert r["valid"] is False and r["problem_counts"][problem] > 0
    others = {k: n for k, n in r["problem_counts"].items() if k != problem}
    assert set(others.values()) == {0}, r["problem_counts"]
    assert f"{r['bad_read_count']} of {r['read_count']} reads are bad" in out
    assert len(words.findall(out)) == min(3, r["bad_read_count"]), out
    chart = chart_of(page)
    marks = MARK.findall(chart)
    assert marks == [problem] * r["problem_counts"][problem]
    good = r["read_count"] - r["bad_read_count"]
    dots = chart[chart.index('<g class="bank-reads">') :].split("</g>", 1)[0]
    assert dots.count("<circle") == good
    first = r["bad_reads"][0]
    assert f"{first['time'] / 1e9:.3f} s: total {first['total']}" in chart

    checked = run_cli(
        "check", str(tmp_path / "latest" / "history.jsonl"), "--model", "bank", "--json"
    )
    assert checked.returncode == 1, checked.stdout + checked.stderr
    again = json.loads(checked.stdout)["result"]
    assert again["problem_counts"] == r["problem_counts"]


def test_a_bad_bank_option_is_refused_in_one_line(tmp_path: Path) -> None:
    r = run_cli("test", "--workload", "bank", "-w", "accounts=1", "--store", str(tmp_path))
    assert r.returncode == 254
    assert r.stderr.count("\n") == 1 and "accounts" in r.stderr and "from 2 to" in r.stderr
