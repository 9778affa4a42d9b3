"""Kafka-style logs (Maelstrom's kafka workload), checked as Jepsen's queue checker does.

Ops: ``send`` (invoke ``[key, msg]``, ok ``[key, msg, offset]``), ``poll`` (ok
``{key: [[offset, msg], ...]}``) and ``assign`` (ok ``{"keys": [...], ...}``; it resets a
process's position, so monotonicity and skips are not judged across it). Anomalies:

- *inconsistent offsets*: one offset of a key seen with two different messages;
- *duplicates*: one message at two offsets of a key;
- *lost writes*: an acknowledged send at offset o of a key never seen by any poll, although
  some poll saw a higher offset of that key;
- *poll skips*: a process's polls (within one poll, or between two) jump over an offset
  that is known to exist;
- *non-monotonic polls / sends*: a process sees offsets of a key go backwards or repeat.

``unseen`` (acknowledged but never polled, with no higher offset polled) is reported, not
judged: Maelstrom lets a server acknowledge a message and never return it.
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from typing import Any

from splitbrain.harness.base.bounds import brief
from splitbrain.harness.base.history import BadOp, Op, pairs

MAX_LISTED = 50


def _h(x: Any) -> str:
    return json.dumps(x, sort_keys=True)


class _Report:
    def __init__(self) -> None:
        self.found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, kind: str, case: dict[str, Any]) -> None:
        self.counts[kind] += 1
        if len(self.found[kind]) < MAX_LISTED:
            self.found[kind].append(case)


def _polls(value: Any) -> dict[str, list[tuple[int, Any]]]:
    if not isinstance(value, dict):
        raise ValueError(f"poll value {brief(value)} is not a map of key to [[offset, msg]...]")
    return {str(k): [(int(o), m) for o, m in v] for k, v in value.items()}


def check(history: list[Op]) -> dict[str, Any]:
    report = _Report()
    seen_at: dict[tuple[str, int], str] = {}
    offsets_of: dict[tuple[str, str], set[int]] = defaultdict(set)
    acked: list[tuple[str, int, Any, int]] = []
    polled: dict[str, set[int]] = defaultdict(set)
    done: list[Op] = []
    conflicts: set[tuple[str, int, str]] = set()
    try:
        for p in pairs(history):
            c = p.complete
            if p.outcome != "ok" or c is None or p.invoke.f not in ("send", "poll", "assign"):
                continue
            done.append(c)
            observations: list[tuple[str, int, Any]] = []
            if c.f == "send":
                k, m, o = c.value
                acked.append((str(k), int(o), m, c.index))
                observations.append((str(k), int(o), m))
            elif c.f == "poll":
                for k, pairs_ in _polls(c.value).items():
                    for o, m in pairs_:
                        observations.append((k, o, m))
                        polled[k].add(o)
            for k, o, m in observations:
                hm = _h(m)
                first = seen_at.setdefault((k, o), hm)
                if first != hm and (k, o, hm) not in conflicts:
                    conflicts.add((k, o, hm))
                    report.add(
                        "inconsistent-offsets",
                        {"key": k, "offset": o, "msgs": [json.loads(first), m], "index": c.index},
                    )
                offsets_of[(k, hm)].add(o)
    except (ValueError, TypeError, OverflowError) as e:
        raise BadOp(c.index, f"unreadable kafka op: {str(e)[:200]}") from None
    for (k, hm), offs in offsets_of.items():
        if len(offs) > 1:
            report.add("duplicates", {"key": k, "msg": json.loads(hm), "offsets": sorted(offs)})
    known: dict[str, list[int]] = defaultdict(list)
    for k, o in seen_at:
        known[k].append(o)
    for offs in known.values():
        offs.sort()
    unseen = 0
    for k, o, m, index in acked:
        if o in polled[k]:
            continue
        if polled[k] and o < max(polled[k]):
            report.add("lost-writes", {"key": k, "offset": o, "msg": m, "send_index": index})
        else:
            unseen += 1
    _process_order(done, known, report)
    valid = not report.counts
    return {
        "valid": valid,
        "send_count": len(acked),
        "poll_count": sum(op.f == "poll" for op in done),
        "unseen_count": unseen,
        "anomaly_counts": dict(sorted(report.counts.items())),
        "anomalies": dict(sorted(report.found.items())),
    }


def _between(known: list[int], lo: int, hi: int) -> list[int]:
    """Known offsets strictly between lo and hi."""
    return known[bisect.bisect_right(known, lo) : bisect.bisect_left(known, hi)]


def _process_order(done: list[Op], known: dict[str, list[int]], report: _Report) -> None:
    last_poll: dict[Any, dict[str, int]] = defaultdict(dict)
    last_send: dict[Any, dict[str, int]] = defaultdict(dict)
    for op in done:
        proc = op.process
        if op.f == "assign":
            last_poll[proc] = {}
        elif op.f == "send":
            k, o = str(op.value[0]), int(op.value[2])
            prev = last_send[proc].get(k)
            if prev is not None and o <= prev:
                report.add("nonmonotonic-send", {"key": k, "offsets": [prev, o], "index": op.index})
            last_send[proc][k] = o
        else:
            for k, got in _polls(op.value).items():
                offs = [o for o, _ in got]
                prev = last_poll[proc].get(k)
                chain = ([prev] if prev is not None else []) + offs
                for i, (a, b) in enumerate(zip(chain, chain[1:], strict=False)):
                    where = "external" if prev is not None and i == 0 else "internal"
                    if b <= a:
                        report.add(
                            f"{where}-nonmonotonic-poll",
                            {"key": k, "offsets": [a, b], "index": op.index},
                        )
                    elif skipped := _between(known[k], a, b):
                        report.add(
                            f"{where}-poll-skip",
                            {
                                "key": k,
                                "from": a,
                                "to": b,
                                "skipped": skipped[:10],
                                "index": op.index,
                            },
                        )
                if offs:
                    last_poll[proc][k] = offs[-1]
