"""Jepsen's bank checker: every read of all balances must show the same total.

Transfers move money between accounts; whether one happened (``ok``), certainly did not
(``fail``) or may have (``info``), it leaves the total unchanged, so every ``ok`` read must
sum to the starting total whatever became of the transfers around it. A read is bad when
its total is wrong, when it lacks an account or shows a ``null`` balance (``missing``),
when it shows an account that does not exist (``unexpected``), or, unless negative
balances are allowed, when a balance is below zero (``negative``). Unlike Jepsen's, which
names only the first problem of a read, each bad read lists all of its problems.

The result keeps every read's completion time, total, problems and history index
(``reads_over_time``, ``[time, total, [problem, ...], index]``), for the report's plot, and the first ``MAX_BAD_READS`` bad reads in full (``bad_reads``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from splitbrain.harness.base.bounds import brief
from splitbrain.harness.base.history import BadOp, Op, pairs

DEFAULT_ACCOUNTS = 8
DEFAULT_TOTAL = 100
PROBLEMS = ("wrong-total", "missing", "unexpected", "negative")
MAX_BAD_READS = 1000
SERIES_LIMIT = 20_000
"""Reads kept in ``reads_over_time``; beyond it the good reads are thinned evenly (never a bad one)."""


def initial_balances(accounts: int, total: int) -> dict[int, int]:
    """Jepsen's start: accounts ``0 .. accounts-1``, the whole total in the first one."""
    return {a: total if a == 0 else 0 for a in range(accounts)}


def check(
    history: list[Op],
    accounts: int | Iterable[Any] = DEFAULT_ACCOUNTS,
    total: int | float = DEFAULT_TOTAL,
    negative_balances: bool = False,
) -> dict[str, Any]:
    """Judge every ``ok`` read of ``history``. ``accounts``: how many (named ``0 ..
    accounts-1``) or their names; ``total``: the sum they hold. Account names are compared
    as text, since JSON histories carry a read's accounts as strings."""
    names = range(accounts) if isinstance(accounts, int) else list(accounts)
    expected = {str(a): a for a in names}
    transfers: Counter[str] = Counter()
    series: list[list[Any]] = []
    bad_reads: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    bad_count = 0
    totals: list[int | float] = []
    for p in pairs(history):
        if p.invoke.f == "transfer":
            _transfer(p.invoke)
            transfers[p.outcome] += 1
            continue
        if p.invoke.f != "read":
            raise BadOp(p.invoke.index, f"{brief(p.invoke.f)} is neither read nor transfer")
        if p.outcome != "ok" or p.complete is None:
            continue
        op = p.complete
        found = _judge(op, expected, total, negative_balances)
        totals.append(found["total"])
        series.append([op.time, found["total"], found["problems"], op.index])
        if not found["problems"]:
            continue
        bad_count += 1
        counts.update(found["problems"])
        if len(bad_reads) < MAX_BAD_READS:
            where = {"index": op.index, "time": op.time, "process": op.process}
            bad_reads.append({**where, **found, "op": op.to_dict()})
    drawn = _thinned(series)
    return {
        "valid": bad_count == 0,
        "accounts": len(expected),
        "total": total,
        "negative_balances": negative_balances,
        "read_count": len(totals),
        "transfer_count": {o: transfers[o] for o in ("ok", "fail", "info")},
        "bad_read_count": bad_count,
        "problem_counts": {k: counts[k] for k in PROBLEMS},
        "lowest_total": min(totals, default=None),
        "highest_total": max(totals, default=None),
        "bad_reads": bad_reads,
        "reads_over_time": drawn,
        "reads_over_time_thinned": len(drawn) < len(series),
    }


def _transfer(op: Op) -> None:
    """A transfer is ``{from, to, amount}`` with a number for its amount."""
    value = op.value
    if not isinstance(value, dict) or not {"from", "to", "amount"} <= value.keys():
        raise BadOp(op.index, f"transfer {brief(value)} is not a map of from, to and amount")
    amount = value["amount"]
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise BadOp(op.index, f"transfer amount {brief(amount)} is not a number")


def _judge(
    op: Op, expected: dict[str, Any], total: int | float, negative_balances: bool
) -> dict[str, Any]:
    """The read's total and its problems (and which accounts each is about)."""
    value = op.value
    if not isinstance(value, dict):
        raise BadOp(op.index, f"read value {brief(value)} is not a map of account to balance")
    seen: dict[str, int | float | None] = {}
    for account, balance in value.items():
        if balance is not None and (
            isinstance(balance, bool) or not isinstance(balance, (int, float))
        ):
            raise BadOp(
                op.index, f"balance {brief(balance)} of account {brief(account)} is not a number"
            )
        seen[str(account)] = balance
    balances = [b for b in seen.values() if b is not None]
    got = sum(balances)
    missing = [expected[a] for a in expected if seen.get(a) is None]
    unexpected = [account for account in value if str(account) not in expected]
    negative = (
        {} if negative_balances else {a: b for a, b in value.items() if b is not None and b < 0}
    )
    problems = [
        name
        for name, found in (
            ("wrong-total", got != total),
            ("missing", missing),
            ("unexpected", unexpected),
            ("negative", negative),
        )
        if found
    ]
    out: dict[str, Any] = {"total": got, "problems": problems}
    if missing:
        out["missing"] = missing
    if unexpected:
        out["unexpected"] = unexpected
    if negative:
        out["negative"] = negative
    return out


def _thinned(series: list[list[Any]]) -> list[list[Any]]:
    """At most ``SERIES_LIMIT`` points: every bad read (the first ones if even they are too
    many), and the good reads evenly spaced among the rest."""
    if len(series) <= SERIES_LIMIT:
        return series
    bad = sum(1 for s in series if s[2])
    if bad >= SERIES_LIMIT:
        return [s for s in series if s[2]][:SERIES_LIMIT]
    room, good_total = SERIES_LIMIT - bad, len(series) - bad
    out: list[list[Any]] = []
    good = 0
    for s in series:
        if s[2] or (good * room) // good_total > ((good - 1) * room) // good_total:
            out.append(s)
        good += not s[2]
    return out
