"""Queue checker in the manner of Jepsen's total-queue.

Ops: ``enqueue`` of a unique message, ``dequeue`` returning one message (or None when the
queue was empty), and ``drain`` returning the list of messages left. Every acknowledged
enqueue must be dequeued (else *lost*), no message may come out twice (*duplicated*, unless
``allow_duplicates``) or without having gone in (*unexpected*). A dequeue that timed out
(``info``) may have taken any one message unseen: they are counted, so an explanation can
say how many lost messages they could account for (the verdict does not change). With ``fifo=True``, when
enqueue A was acknowledged before enqueue B began, B must not be dequeued before A's dequeue began.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from splitbrain.harness.base.bounds import brief
from splitbrain.harness.base.history import BadOp, Op, element, pairs
from splitbrain.harness.base.notation import listing_order

MAX_LISTED = 100
Pos = tuple[int, int]


@dataclass(slots=True)
class _Msg:
    enq_invoke: int
    enq_complete: int | None
    outcome: str
    index: int
    deq_start: Pos | None = None
    deq_end: Pos | None = None
    deq_index: int | None = None
    dequeues: int = 0


def _key(x: Any, index: int) -> Any:
    return element(x, index, "a message")


def check(history: list[Op], fifo: bool = False, allow_duplicates: bool = False) -> dict[str, Any]:
    msgs: dict[Any, _Msg] = {}
    dequeued: list[tuple[Any, Pos, Pos, int]] = []
    indeterminate: list[int] = []
    for p in pairs(history):
        f = p.invoke.f
        if f == "dequeue" and p.outcome == "info":
            indeterminate.append(p.invoke.index)
        if f == "enqueue":
            msgs[_key(p.invoke.value, p.invoke.index)] = _Msg(
                p.invoke_pos, p.complete_pos, p.outcome, p.invoke.index
            )
        elif p.outcome == "ok" and p.complete is not None and p.complete_pos is not None:
            v = p.complete.value
            if f == "dequeue" and v is not None:
                dequeued.append(
                    (
                        _key(v, p.complete.index),
                        (p.invoke_pos, 0),
                        (p.complete_pos, 0),
                        p.complete.index,
                    )
                )
            elif f == "drain":
                if not isinstance(v, list):
                    raise BadOp(p.complete.index, f"drain returned {brief(v)}, not a list")
                dequeued.extend(
                    (
                        _key(m, p.complete.index),
                        (p.invoke_pos, i),
                        (p.invoke_pos, i),
                        p.complete.index,
                    )
                    for i, m in enumerate(v)
                )
    unexpected: list[dict[str, Any]] = []
    duplicated: dict[Any, int] = {}
    for m, start, end, index in dequeued:
        msg = msgs.get(m)
        if msg is None or msg.outcome == "fail":
            unexpected.append({"message": _plain(m), "dequeue_index": index})
            continue
        msg.dequeues += 1
        if msg.dequeues > 1:
            duplicated[m] = msg.dequeues
        if msg.deq_start is None:
            msg.deq_start, msg.deq_end, msg.deq_index = start, end, index
    lost = [m for m, msg in msgs.items() if msg.outcome == "ok" and msg.dequeues == 0]
    recovered = sum(1 for msg in msgs.values() if msg.outcome == "info" and msg.dequeues)
    violations = _fifo_violations(msgs) if fifo else []
    valid = not lost and not unexpected and (allow_duplicates or not duplicated) and not violations
    return {
        "valid": valid,
        "attempt_count": len(msgs),
        "acknowledged_count": sum(1 for msg in msgs.values() if msg.outcome == "ok"),
        "dequeued_count": len(dequeued),
        "recovered_count": recovered,
        "lost_count": len(lost),
        "lost": [
            {"message": _plain(m), "enqueue_index": msgs[m].index}
            for m in sorted(lost, key=listing_order)[:MAX_LISTED]
        ],
        "indeterminate_dequeue_count": len(indeterminate),
        "indeterminate_dequeues": indeterminate[:MAX_LISTED],
        "duplicated_count": len(duplicated),
        "duplicated": [
            {"message": _plain(m), "times": n} for m, n in list(duplicated.items())[:MAX_LISTED]
        ],
        "unexpected_count": len(unexpected),
        "unexpected": unexpected[:MAX_LISTED],
        "fifo_violation_count": len(violations) if fifo else None,
        "fifo_violations": violations[:MAX_LISTED],
    }


def _fifo_violations(msgs: dict[Any, _Msg]) -> list[dict[str, Any]]:
    """Pairs (A, B): A acknowledged before B was enqueued, yet B dequeued before A's dequeue began."""
    done = [(m, msg) for m, msg in msgs.items() if msg.deq_start is not None]
    by_ack = sorted(
        ((m, msg) for m, msg in done if msg.enq_complete is not None and msg.outcome == "ok"),
        key=lambda x: x[1].enq_complete,
    )
    by_start = sorted(done, key=lambda x: x[1].enq_invoke)
    out: list[dict[str, Any]] = []
    latest: tuple[Pos, Any, _Msg] | None = None
    i = 0
    for b, bmsg in by_start:
        while i < len(by_ack) and by_ack[i][1].enq_complete < bmsg.enq_invoke:  # type: ignore[operator]
            a, amsg = by_ack[i]
            if latest is None or amsg.deq_start > latest[0]:  # type: ignore[operator]
                latest = (amsg.deq_start, a, amsg)  # type: ignore[assignment]
            i += 1
        if latest is not None and bmsg.deq_end < latest[0]:  # type: ignore[operator]
            _, a, amsg = latest
            out.append(
                {
                    "earlier": _plain(a),
                    "later": _plain(b),
                    "earlier_enqueue_index": amsg.index,
                    "later_enqueue_index": bmsg.index,
                    "later_dequeue_index": bmsg.deq_index,
                    "earlier_dequeue_index": amsg.deq_index,
                }
            )
    return out


def _plain(m: Any) -> Any:
    return [_plain(i) for i in m] if isinstance(m, tuple) else m
