"""Elle's list-append checker: transactional anomalies from a history of appends and reads.

Every op is a transaction whose value is a list of micro-ops ``["append", k, v]`` and
``["r", k, [v1, v2, ...] | None]``; every appended value is unique per key. Because each read
shows the whole list, the longest read of a key gives its version order. From that order we
build write-write, write-read and read-write dependency edges (plus process and real-time
edges when the claimed models need them), search each strongly connected component for the
shortest cycle of each Adya class, and add the anomalies visible without a graph: aborted and
intermediate reads, internal inconsistency, duplicated and garbage elements, incompatible
orders, dirty updates and lost updates. The verdict comes from the anomalies the claimed
consistency models forbid (``checkers.txn.models``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from splitbrain.checkers.models import freeze, thaw
from splitbrain.checkers.txn import core
from splitbrain.checkers.txn import graph as tg
from splitbrain.checkers.txn import models as cm
from splitbrain.checkers.txn.core import DEFAULT_BUDGET, DEFAULT_MAX_CASES, BadHistory, Txn
from splitbrain.harness.base.bounds import brief
from splitbrain.harness.base.history import Op
from splitbrain.harness.base.notation import value_text

INIT = ("<init>",)
"""Stands for the empty list, the state no append produced."""

# ---------------------------------------------------------------- reading the history


def _freeze_list(v: list[Any]) -> tuple[Any, ...]:
    t = tuple(v)
    try:
        hash(t)
        return t
    except TypeError:
        return tuple(freeze(e) for e in v)


def _mops(value: Any, where: int) -> list[tuple[str, Hashable, Any]]:
    out: list[tuple[str, Hashable, Any]] = []
    for f, k, v in core.mop_triples(value, where):
        if f == "append":
            out.append(("append", freeze(k), freeze(v)))
        elif f == "r":
            if v is not None and not isinstance(v, list):
                raise BadHistory(where, f"read of {brief(k)} returned neither a list nor nil")
            out.append(("r", freeze(k), None if v is None else _freeze_list(v)))
        else:
            raise BadHistory(where, f"micro-op {brief(f)} is neither append nor r")
    return out


def transactions(history: list[Op]) -> list[Txn]:
    """List-append transactions (``core.transactions``)."""
    return core.transactions(history, _mops)


# ---------------------------------------------------------------- indexes


@dataclass
class Indexes:
    """Version orders and who wrote / read what, over ok and info transactions."""

    orders: dict[Hashable, tuple[Any, ...]]
    positions: dict[Hashable, dict[Any, int]]
    writers: dict[Hashable, dict[Any, int]]
    readers: dict[Hashable, dict[Any, list[int]]]

    def previous(self, k: Hashable, v: Any) -> Any:
        """The element appended just before ``v`` to ``k`` (INIT for the first).

        An append never read came after the last element ever read.
        """
        order = self.orders.get(k)
        if not order:
            return INIT
        i = self.positions[k].get(v)
        if i is None:
            return order[-1]
        return order[i - 1] if i > 0 else INIT


def _observed_values(txns: Iterable[Txn]) -> dict[Hashable, set[tuple[Any, ...]]]:
    values: dict[Hashable, set[tuple[Any, ...]]] = {}
    appends: dict[Hashable, Any] = {}
    many = object()
    for t in txns:
        for f, k, v in t.mops:
            if f == "r":
                if v:
                    s = values.get(k)
                    if s is None:
                        values[k] = {v}
                    else:
                        s.add(v)
            else:
                appends[k] = many if k in appends else v
    for k, v in appends.items():
        if v is not many:
            values[k] = {(v,)}
    return values


def _sorted_values(
    values: dict[Hashable, set[tuple[Any, ...]]],
) -> dict[Hashable, list[tuple[Any, ...]]]:
    return {k: sorted(vs, key=len) for k, vs in values.items()}


def _orders(
    sorted_values: dict[Hashable, list[tuple[Any, ...]]],
) -> dict[Hashable, tuple[Any, ...]]:
    return {k: tuple(dict.fromkeys(vs[-1])) for k, vs in sorted_values.items()}


def build_indexes(possible: list[Txn], orders: dict[Hashable, tuple[Any, ...]]) -> Indexes:
    positions = {k: {e: i for i, e in enumerate(o)} for k, o in orders.items()}
    writers: dict[Hashable, dict[Any, int]] = {}
    readers: dict[Hashable, dict[Any, list[int]]] = {}
    for t in possible:
        ok = t.type == "ok"
        for f, k, v in t.mops:
            if f == "append":
                writers.setdefault(k, {})[v] = t.id
            elif v is not None or ok:
                last = v[-1] if v else INIT
                by = readers.setdefault(k, {})
                lst = by.get(last)
                if lst is None:
                    by[last] = [t.id]
                else:
                    lst.append(t.id)
    return Indexes(orders, positions, writers, readers)


# ---------------------------------------------------------------- anomalies without a graph


def verify_unique_appends(txns: list[Txn]) -> None:
    core.verify_unique_writes(txns, "append", "appended to")


def _elements(v: tuple[Any, ...]) -> tuple[Any, ...]:
    return v


def _last(v: tuple[Any, ...]) -> Any:
    return v[-1] if v else None


def g1a_cases(oks: list[Txn], failed: list[Txn]) -> list[dict[str, Any]]:
    return core.aborted_read_cases(oks, failed, "append", _elements)


def g1b_cases(oks: list[Txn], writers: list[Txn]) -> list[dict[str, Any]]:
    return core.intermediate_read_cases(oks, writers, "append", _last)


_UNKNOWN_PREFIX = object()


def internal_case(t: Txn) -> dict[str, Any] | None:
    """A read inconsistent with the transaction's own earlier reads and appends of that key."""
    state: dict[Hashable, tuple[Any, ...]] = {}
    for m in t.mops:
        f, k, v = m
        if f == "append":
            s = state.get(k)
            state[k] = (s if s is not None else (_UNKNOWN_PREFIX,)) + (v,)
            continue
        seen = v or ()
        s = state.get(k)
        if s is not None:
            if s and s[0] is _UNKNOWN_PREFIX:
                suffix = s[1:]
                bad = len(seen) < len(suffix) or seen[len(seen) - len(suffix) :] != suffix
            else:
                bad = s != seen
            if bad:
                expected = (
                    ["...", *map(thaw, s[1:])]
                    if s and s[0] is _UNKNOWN_PREFIX
                    else [thaw(e) for e in s]
                )
                return {"op": core.describe(t), "mop": core.mop(m), "expected": expected}
        state[k] = seen
    return None


def future_read_case(t: Txn) -> dict[str, Any] | None:
    """A read that observed an element this same transaction appends later."""
    read: dict[tuple[Hashable, Any], tuple[str, Hashable, Any]] = {}
    for m in t.mops:
        f, k, v = m
        if f == "append":
            r = read.get((k, v))
            if r is not None:
                return {"op": core.describe(t), "mop": core.mop(r), "element": thaw(v)}
        elif v:
            for e in v:
                read.setdefault((k, e), m)
    return None


def duplicate_cases(possible: list[Txn]) -> list[dict[str, Any]]:
    cases = []
    for t in possible:
        for m in t.mops:
            f, _, v = m
            if f == "r" and v and len(set(v)) != len(v):
                counts: dict[Any, int] = {}
                for e in v:
                    counts[e] = counts.get(e, 0) + 1
                dups = {str(thaw(e)): c for e, c in counts.items() if c > 1}
                cases.append({"op": core.describe(t), "mop": core.mop(m), "duplicates": dups})
    return cases


def garbage_cases(oks: list[Txn], all_txns: list[Txn]) -> list[dict[str, Any]]:
    """Reads of elements that no transaction (ok, info or failed) ever tried to append."""
    appended = {(k, v) for t in all_txns for f, k, v in t.mops if f == "append"}
    cases = []
    for t in oks:
        for m in t.mops:
            f, k, v = m
            if f == "r" and v:
                garbage = [thaw(e) for e in v if (k, e) not in appended]
                if garbage:
                    cases.append({"op": core.describe(t), "mop": core.mop(m), "elements": garbage})
    return cases


def incompatible_order_cases(
    sorted_values: dict[Hashable, list[tuple[Any, ...]]],
) -> list[dict[str, Any]]:
    cases = []
    for k, vs in sorted_values.items():
        for a, b in zip(vs, vs[1:], strict=False):
            if b[: len(a)] != a:
                cases.append({"key": thaw(k), "values": [thaw(a), thaw(b)]})
                break
    return cases


def dirty_update_cases(txns: list[Txn]) -> list[dict[str, Any]]:
    """A committed append right after a failed one in some key's version order."""
    orders = _orders(_sorted_values(_observed_values(txns)))
    writer = {(k, v): t for t in txns for f, k, v in t.mops if f == "append"}
    cases = []
    for k, order in orders.items():
        prev_type, prev_txn, vs = "ok", None, []
        for v in order:
            vs.append(v)
            t2 = writer.get((k, v))
            t2_type = t2.type if t2 is not None else "info"
            if t2_type == "info":
                continue
            if prev_type == "fail" and t2_type == "ok":
                cases.append(
                    {
                        "key": thaw(k),
                        "values": [thaw(e) for e in vs],
                        "txns": [core.describe(prev_txn), "...", core.describe(t2)]
                        if prev_txn
                        else [core.describe(t2)],
                    }
                )
            if t2_type == "ok" or prev_type != "fail":
                prev_type, prev_txn, vs = t2_type, t2, [v]
    return cases


# ---------------------------------------------------------------- the dependency graph


def data_edges(g: tg.Graph, possible: list[Txn], idx: Indexes) -> None:
    """ww, wr and rw edges from the version orders."""
    link = g.link
    writers = idx.writers
    readers = idx.readers
    previous = idx.previous
    for t in possible:
        me = t.id
        for f, k, v in t.mops:
            if f == "append":
                prev = previous(k, v)
                if prev is not INIT:
                    w = writers[k].get(prev)
                    if w is not None:
                        link(w, me, tg.WW)
                rs = readers.get(k)
                if rs:
                    for r in rs.get(prev, ()):
                        link(r, me, tg.RW)
            elif v:
                w = writers.get(k, {}).get(v[-1])
                if w is not None:
                    link(w, me, tg.WR)


# ---------------------------------------------------------------- explaining cycles


def _edge_explanation(a: Txn, b: Txn, rel: int, idx: Indexes) -> dict[str, Any]:
    base: dict[str, Any] = {"from": a.index, "to": b.index, "type": tg.REL_NAMES[rel]}
    if rel == tg.WW:
        for f, k, v in b.mops:
            if f == "append":
                prev = idx.previous(k, v)
                if prev is not INIT and idx.writers.get(k, {}).get(prev) == a.id:
                    return {**base, "key": thaw(k), "value": thaw(prev), "value_after": thaw(v)}
    elif rel == tg.WR:
        for f, k, v in b.mops:
            if f == "r" and v and idx.writers.get(k, {}).get(v[-1]) == a.id:
                return {**base, "key": thaw(k), "value": thaw(v[-1])}
    elif rel == tg.RW:
        for f, k, v in b.mops:
            if f == "append":
                prev = idx.previous(k, v)
                if a.id in idx.readers.get(k, {}).get(prev, ()):
                    return {
                        **base,
                        "key": thaw(k),
                        "value": None if prev is INIT else thaw(prev),
                        "value_after": thaw(v),
                    }
    return base


def _render_edge(e: dict[str, Any], a: str, b: str) -> str:
    t = e["type"]
    key, value, after = (value_text(e.get(f)) for f in ("key", "value", "value_after"))
    if t == "ww":
        return f"{b} appended {after} after {a} appended {value} to key {key}"
    if t == "wr":
        return f"{b} observed {a}'s append of {value} to key {key}"
    if e.get("value") is None:
        return (
            f"{a} observed the initial (empty) state of key {key}, which {b} "
            f"changed by appending {after}"
        )
    return f"{a} did not observe {b}'s append of {after} to key {key}"


def explain_cycle(
    cycle: list[tuple[int, int, int]], txns: list[Txn], idx: Indexes
) -> dict[str, Any]:
    return core.explain_cycle(
        cycle, txns, lambda a, b, rel: _edge_explanation(a, b, rel, idx), _render_edge
    )


# ---------------------------------------------------------------- the checker


def check(
    history: list[Op],
    consistency_models: Iterable[str] | None = None,
    anomalies: Iterable[str] = (),
    cycle_search_budget: int = DEFAULT_BUDGET,
    max_cases: int = DEFAULT_MAX_CASES,
) -> dict[str, Any]:
    """Check a list-append history against ``consistency_models`` (Elle's names; default strict-serializable).

    Raises ValueError for an unknown model name, and ``BadHistory`` for a malformed history.

    ``anomalies`` adds specific anomaly names to forbid. ``cycle_search_budget`` bounds the
    edge relaxations spent looking for one class of cycle in one component; when it runs
    out the result can only be ``unknown`` for that class.
    """
    models, prohibited = core.prohibited_anomalies(consistency_models, anomalies)
    txns = transactions(history)
    verify_unique_appends(txns)
    found = find_anomalies(txns, prohibited, cycle_search_budget)
    return core.result_map(found, prohibited, models, max_cases)


def find_anomalies(
    txns: list[Txn], prohibited: set[str], budget: int
) -> dict[str, list[dict[str, Any]]]:
    oks = [t for t in txns if t.type == "ok"]
    failed = [t for t in txns if t.type == "fail"]
    possible = [t for t in txns if t.type != "fail"]
    found: dict[str, list[dict[str, Any]]] = {}

    def add(name: str, cases: list[dict[str, Any]]) -> None:
        if cases:
            found.setdefault(name, []).extend(cases)

    add("G1a", g1a_cases(oks, failed))
    add("G1b", g1b_cases(oks, txns))
    add("internal", [c for t in oks if len(t.mops) > 1 and (c := internal_case(t))])
    add("future-read", [c for t in oks if len(t.mops) > 1 and (c := future_read_case(t))])
    add("duplicate-elements", duplicate_cases(possible))
    add("garbage-read", garbage_cases(oks, txns))
    if failed:
        add("dirty-update", dirty_update_cases(txns))
    sorted_values = _sorted_values(_observed_values(possible))
    add("incompatible-order", incompatible_order_cases(sorted_values))
    add("lost-update", core.lost_update_cases(oks, ()))
    if not possible:
        found[cm.EMPTY_GRAPH] = [{"message": "no ok or info transactions"}]
        return found

    idx = build_indexes(possible, _orders(sorted_values))
    g = tg.Graph(len(txns))
    data_edges(g, possible, idx)
    core.order_edges(g, possible, prohibited)
    if not any(g.succ):
        found[cm.EMPTY_GRAPH] = [{"message": "no dependencies between transactions"}]
    explain = lambda cycle: explain_cycle(cycle, txns, idx)  # noqa: E731
    for name, cases in core.cycle_anomalies(g, prohibited, budget, explain).items():
        add(name, cases)
    return found
