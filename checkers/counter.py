"""Counter checker in the manner of Jepsen's: every read lies between what must and what may have been added.

Ops: ``add`` with a signed delta (increments and, for a PN counter, decrements) and ``read``
returning the counter. For a read, the *certain* adds are those acknowledged before it was
invoked; the *possible* ones were invoked before it completed and did not fail (ok, info or
never completed). The read must lie in ``[certain + negative possible, certain + positive possible]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from splitbrain.harness.base.bounds import brief
from splitbrain.harness.base.history import BadOp, Op, pairs
from splitbrain.harness.base.verdict import vacuous

MAX_ERRORS = 100


@dataclass(slots=True)
class _Add:
    delta: int | float
    invoke_pos: int
    ok_pos: int | None


def _delta(v: Any, index: int) -> int | float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise BadOp(index, f"add value {brief(v)} is not a number")
    return v


def check(history: list[Op], initial: int | float = 0) -> dict[str, Any]:
    n = len(history)
    adds: list[_Add] = []
    reads: list[tuple[int, int, Any, Op]] = []
    for p in pairs(history):
        if p.invoke.f == "add":
            if p.outcome == "fail":
                continue
            done = p.complete if p.outcome == "ok" and p.complete.value is not None else p.invoke
            delta = _delta(done.value, done.index)
            adds.append(_Add(delta, p.invoke_pos, p.complete_pos if p.outcome == "ok" else None))
        elif p.invoke.f == "read" and p.outcome == "ok" and p.complete is not None:
            reads.append(
                (p.invoke_pos, p.complete_pos or p.invoke_pos, p.complete.value, p.complete)
            )
    # per position: sums of adds invoked at it (positive / negative parts) and acknowledged at it
    inv_pos = [0.0] * (n + 1)
    inv_neg = [0.0] * (n + 1)
    ok_all = [0.0] * (n + 1)
    ok_pos = [0.0] * (n + 1)
    ok_neg = [0.0] * (n + 1)
    for a in adds:
        pos, neg = max(a.delta, 0), min(a.delta, 0)
        inv_pos[a.invoke_pos + 1] += pos
        inv_neg[a.invoke_pos + 1] += neg
        if a.ok_pos is not None:
            ok_all[a.ok_pos + 1] += a.delta
            ok_pos[a.ok_pos + 1] += pos
            ok_neg[a.ok_pos + 1] += neg
    inv_pos, inv_neg, ok_all, ok_pos, ok_neg = (
        list(accumulate(x)) for x in (inv_pos, inv_neg, ok_all, ok_pos, ok_neg)
    )
    errors: list[dict[str, Any]] = []
    bad_count = 0
    for ipos, cpos, value, op in reads:
        certain = initial + ok_all[ipos]
        lower = certain + inv_neg[cpos] - ok_neg[ipos]
        upper = certain + inv_pos[cpos] - ok_pos[ipos]
        if (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or not lower <= value <= upper
        ):
            bad_count += 1
            if len(errors) < MAX_ERRORS:
                errors.append(
                    {
                        "index": op.index,
                        "process": op.process,
                        "value": value,
                        "lower": _num(lower),
                        "upper": _num(upper),
                    }
                )
    return {
        "valid": bad_count == 0,
        **vacuous(len(reads), "no counter read succeeded"),
        "reads": len(reads),
        "adds": len(adds),
        "acknowledged_sum": _num(initial + sum(a.delta for a in adds if a.ok_pos is not None)),
        "attempted_sum": _num(initial + sum(a.delta for a in adds)),
        "error_count": bad_count,
        "errors": errors,
    }


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x
