"""Set checker in the manner of Jepsen's set-full.

Ops: ``add`` of a unique element and ``read`` returning the whole set. An element becomes
*known* when its add is acknowledged or a read first shows it. Each read invoked after that
either shows it or not. An element is *stable* when the last reads show it, *lost* when it was
known and the last read after that misses it, *stale* when some read missed it after it was
known although later reads show it again, *never read* when no read began after it was known,
and *unexpected* when a read shows it although it was never added (or its add failed).
Latencies (ns ``time`` of ops) run from known to the first read of the final streak of reads
that show the element.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

from splitbrain.harness.base.bounds import brief
from splitbrain.harness.base.history import BadOp, Op, element, pairs
from splitbrain.harness.base.notation import listing_order
from splitbrain.harness.base.verdict import vacuous

MAX_LISTED = 100


@dataclass(slots=True)
class _Element:
    add_index: int | None = None
    add_outcome: str = "unknown"
    known_pos: int | None = None
    known_time: int | None = None
    first_seen: int | None = None
    last_seen: int | None = None
    last_absent: int | None = None
    stale_reads: int = 0
    streak_start: int | None = None
    streak_time: int | None = None


@dataclass(slots=True)
class _Read:
    invoke_pos: int
    complete_pos: int
    invoke_time: int | None
    complete_time: int | None
    index: int
    elements: list[Any]


def _collect(
    history: list[Op],
) -> tuple[dict[Any, _Element], list[_Read], list[tuple[int, Any, int | None]]]:
    elements: dict[Any, _Element] = {}
    reads: list[_Read] = []
    acks: list[tuple[int, Any, int | None]] = []
    for p in pairs(history):
        f = p.invoke.f
        if f == "add":
            e = element(p.invoke.value, p.invoke.index, "an element")
            el = elements.setdefault(e, _Element())
            el.add_index = p.invoke.index
            el.add_outcome = p.outcome
            if p.outcome == "ok" and p.complete is not None and p.complete_pos is not None:
                acks.append((p.complete_pos, e, p.complete.time))
        elif (
            f == "read"
            and p.outcome == "ok"
            and p.complete is not None
            and p.complete_pos is not None
        ):
            value = p.complete.value
            if not isinstance(value, (list, tuple, set, frozenset)):
                raise BadOp(p.complete.index, f"read returned {brief(value)}, not a collection")
            reads.append(
                _Read(
                    p.invoke_pos,
                    p.complete_pos,
                    p.invoke.time,
                    p.complete.time,
                    p.complete.index,
                    [element(x, p.complete.index, "an element") for x in value],
                )
            )
    return elements, reads, acks


def check(history: list[Op], linearizable: bool = False) -> dict[str, Any]:
    """``linearizable=True`` also fails the history on stale reads."""
    elements, reads, acks = _collect(history)
    reads.sort(key=lambda r: r.invoke_pos)
    pending: list[tuple[int, int, Any, int | None]] = [(pos, 0, e, t) for pos, e, t in acks]
    heapq.heapify(pending)
    known: set[Any] = set()
    unexpected: dict[Any, int] = {}
    duplicated: dict[Any, int] = {}
    seq = 1
    for ri, r in enumerate(reads):
        while pending and pending[0][0] < r.invoke_pos:
            pos, _, e, t = heapq.heappop(pending)
            el = elements[e]
            if e not in known:
                known.add(e)
                el.known_pos, el.known_time = pos, t
        present = set(r.elements)
        if len(present) != len(r.elements):
            for x in present:
                if r.elements.count(x) > 1:
                    duplicated.setdefault(x, r.index)
        for e in present:
            el = elements.get(e)
            if el is None or el.add_outcome == "fail":
                unexpected.setdefault(e, r.index)
                if el is None:
                    continue
            if el.first_seen is None:
                el.first_seen = ri
                heapq.heappush(pending, (r.complete_pos, seq, e, r.complete_time))
                seq += 1
            el.last_seen = ri
            if el.streak_start is None:
                el.streak_start, el.streak_time = ri, r.invoke_time
        for e in known - present:
            el = elements[e]
            el.last_absent = ri
            el.stale_reads += 1
            el.streak_start = el.streak_time = None
    return _summary(elements, reads, unexpected, duplicated, linearizable)


def _summary(
    elements: dict[Any, _Element],
    reads: list[_Read],
    unexpected: dict[Any, int],
    duplicated: dict[Any, int],
    linearizable: bool,
) -> dict[str, Any]:
    stable: list[Any] = []
    lost: list[dict[str, Any]] = []
    never_read: list[Any] = []
    stale: list[Any] = []
    latencies: list[int] = []
    attempted = acknowledged = 0
    for e, el in elements.items():
        if el.add_index is None:
            continue
        attempted += 1
        acknowledged += el.add_outcome == "ok"
        if el.add_outcome == "fail":
            continue
        if el.last_absent is not None and (el.last_seen is None or el.last_absent > el.last_seen):
            lost.append(_lost_record(e, el, reads))
        elif el.streak_start is not None:
            stable.append(e)
            if el.stale_reads:
                stale.append(e)
            if el.streak_time is not None and el.known_time is not None:
                latencies.append(max(0, el.streak_time - el.known_time))
        elif el.add_outcome == "ok":
            never_read.append(e)
    valid: Any = not lost and not unexpected and not (linearizable and stale)
    return {
        "valid": valid,
        **vacuous(len(reads), "no read succeeded, so no acknowledged element can be shown lost"),
        "attempt_count": attempted,
        "acknowledged_count": acknowledged,
        "read_count": len(reads),
        "stable_count": len(stable),
        "lost_count": len(lost),
        "lost": sorted(lost, key=lambda d: listing_order(d["element"]))[:MAX_LISTED],
        "never_read_count": len(never_read),
        "never_read": _sample(never_read),
        "stale_count": len(stale),
        "stale": _sample(stale),
        "unexpected_count": len(unexpected),
        "unexpected": [
            {"element": _plain(e), "read_index": i}
            for e, i in list(unexpected.items())[:MAX_LISTED]
        ],
        "duplicated_count": len(duplicated),
        "duplicated": [
            {"element": _plain(e), "read_index": i}
            for e, i in list(duplicated.items())[:MAX_LISTED]
        ],
        "stable_latency_ms": _quantiles(latencies),
    }


def _lost_record(e: Any, el: _Element, reads: list[_Read]) -> dict[str, Any]:
    return {
        "element": _plain(e),
        "add_index": el.add_index,
        "add_outcome": el.add_outcome,
        "last_seen_index": reads[el.last_seen].index if el.last_seen is not None else None,
        "last_absent_index": reads[el.last_absent].index if el.last_absent is not None else None,
    }


def _plain(e: Any) -> Any:
    return [_plain(i) for i in e] if isinstance(e, tuple) else e


def _sample(xs: list[Any]) -> list[Any]:
    return [_plain(x) for x in sorted(xs, key=listing_order)[:MAX_LISTED]]


def _quantiles(ns: list[int]) -> dict[str, float | None]:
    if not ns:
        return {"median": None, "p99": None, "max": None}
    s = sorted(ns)

    def q(f: float) -> float:
        return round(s[min(len(s) - 1, int(f * len(s)))] / 1e6, 3)

    return {"median": q(0.5), "p99": q(0.99), "max": round(s[-1] / 1e6, 3)}
