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
from splitbrain.checkers.txn import graph as tg
from splitbrain.checkers.txn import models as cm
from splitbrain.harness.bounds import brief
from splitbrain.harness.history import BadOp, Op, pairs
from splitbrain.harness.notation import op_text, value_text

INIT = ("<init>",)
"""Stands for the empty list, the state no append produced."""

DEFAULT_BUDGET = 3_000_000
DEFAULT_MAX_CASES = 100


class BadHistory(BadOp):
    """The history is not a list-append history: bad input, never an ``unknown`` verdict."""


@dataclass(slots=True)
class Txn:
    id: int
    type: str
    process: Any
    mops: list[tuple[str, Hashable, Any]]
    index: int
    invoke_index: int
    invoke_pos: int
    complete_pos: int | None
    time: int | None
    invoke_time: int | None


# ---------------------------------------------------------------- reading the history


def _freeze_list(v: list[Any]) -> tuple[Any, ...]:
    t = tuple(v)
    try:
        hash(t)
        return t
    except TypeError:
        return tuple(freeze(e) for e in v)


def _mops(value: Any, where: int) -> list[tuple[str, Hashable, Any]]:
    if not isinstance(value, list):
        raise BadHistory(where, "value is not a list of micro-ops")
    out: list[tuple[str, Hashable, Any]] = []
    for m in value:
        if not isinstance(m, (list, tuple)) or len(m) != 3:
            raise BadHistory(where, f"micro-op {brief(m)} is not [f, key, value]")
        f, k, v = m
        f = getattr(f, "name", f)
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
    """Pairs invocations with completions (per process, in order) into transactions.

    A completion without an invocation stands alone; an invocation never completed is ``info``.
    """
    raw: list[tuple[int, Op | None, int | None, Op | None]] = []
    matched: set[int] = set()
    for p in pairs(history):
        raw.append((p.invoke_pos, p.invoke, p.complete_pos, p.complete))
        if p.complete_pos is not None:
            matched.add(p.complete_pos)
    raw.extend(
        (pos, None, pos, op)
        for pos, op in enumerate(history)
        if op.type != "invoke" and op.is_client and pos not in matched
    )
    raw.sort(key=lambda r: r[0])
    txns: list[Txn] = []
    for ipos, inv, cpos, comp in raw:
        main = comp if comp is not None else inv
        assert main is not None
        value = (
            comp.value
            if comp is not None and comp.value is not None
            else (inv.value if inv else None)
        )
        typ = comp.type if comp is not None else "info"
        txns.append(
            Txn(
                id=len(txns),
                type=typ,
                process=main.process,
                mops=_mops(value, main.index),
                index=main.index,
                invoke_index=inv.index if inv is not None else main.index,
                invoke_pos=ipos,
                complete_pos=cpos,
                time=main.time,
                invoke_time=inv.time if inv is not None else main.time,
            )
        )
    return txns


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


def _describe(t: Txn) -> dict[str, Any]:
    return {
        "index": t.index,
        "process": t.process,
        "type": t.type,
        "value": [[f, thaw(k), thaw(v) if v is not None else None] for f, k, v in t.mops],
    }


def _mop(m: tuple[str, Hashable, Any]) -> list[Any]:
    f, k, v = m
    return [f, thaw(k), thaw(v) if v is not None else None]


def verify_unique_appends(txns: list[Txn]) -> None:
    seen: dict[tuple[Hashable, Any], int] = {}
    for t in txns:
        for f, k, v in t.mops:
            if f == "append":
                other = seen.setdefault((k, v), t.id)
                if other != t.id:
                    raise BadHistory(
                        t.index,
                        f"value {brief(thaw(v))} appended to key {brief(thaw(k))} more than "
                        f"once (also at index {txns[other].index}); appends must be unique",
                    )


def g1a_cases(oks: list[Txn], failed: list[Txn]) -> list[dict[str, Any]]:
    failed_writes = {(k, v): t for t in failed for f, k, v in t.mops if f == "append"}
    if not failed_writes:
        return []
    cases = []
    for t in oks:
        for m in t.mops:
            f, k, v = m
            if f == "r" and v:
                for e in v:
                    w = failed_writes.get((k, e))
                    if w is not None:
                        cases.append(
                            {
                                "op": _describe(t),
                                "mop": _mop(m),
                                "writer": _describe(w),
                                "element": thaw(e),
                            }
                        )
    return cases


def g1b_cases(oks: list[Txn], writers: list[Txn]) -> list[dict[str, Any]]:
    intermediate: dict[tuple[Hashable, Any], Txn] = {}
    for t in writers:
        last: dict[Hashable, Any] = {}
        for f, k, v in t.mops:
            if f == "append":
                if k in last:
                    intermediate[(k, last[k])] = t
                last[k] = v
    if not intermediate:
        return []
    cases = []
    for t in oks:
        for m in t.mops:
            f, k, v = m
            if f == "r" and v:
                w = intermediate.get((k, v[-1]))
                if w is not None and w.id != t.id:
                    cases.append(
                        {
                            "op": _describe(t),
                            "mop": _mop(m),
                            "writer": _describe(w),
                            "element": thaw(v[-1]),
                        }
                    )
    return cases


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
                return {"op": _describe(t), "mop": _mop(m), "expected": expected}
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
                return {"op": _describe(t), "mop": _mop(r), "element": thaw(v)}
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
                cases.append({"op": _describe(t), "mop": _mop(m), "duplicates": dups})
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
                    cases.append({"op": _describe(t), "mop": _mop(m), "elements": garbage})
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
                        "txns": [_describe(prev_txn), "...", _describe(t2)]
                        if prev_txn
                        else [_describe(t2)],
                    }
                )
            if t2_type == "ok" or prev_type != "fail":
                prev_type, prev_txn, vs = t2_type, t2, [v]
    return cases


def lost_update_cases(oks: list[Txn]) -> list[dict[str, Any]]:
    """Two committed transactions that read the same version of a key and both appended to it."""
    groups: dict[tuple[Hashable, Any], list[Txn]] = {}
    for t in oks:
        reads: dict[Hashable, Any] = {}
        wrote: set[Hashable] = set()
        for f, k, v in t.mops:
            if f == "r":
                reads.setdefault(k, v or ())
            elif k not in wrote:
                wrote.add(k)
                if k in reads:
                    groups.setdefault((k, reads[k]), []).append(t)
    return [
        {"key": thaw(k), "value": thaw(v), "txns": [_describe(t) for t in ts]}
        for (k, v), ts in groups.items()
        if len(ts) > 1
    ]


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


def process_edges(g: tg.Graph, possible: list[Txn]) -> None:
    """Each process's ok transactions in the order it ran them."""
    last: dict[Any, int] = {}
    for t in sorted((t for t in possible if t.type == "ok"), key=lambda t: t.complete_pos or 0):
        if t.process is None:
            continue
        prev = last.get(t.process)
        if prev is not None:
            g.link(prev, t.id, tg.PROCESS)
        last[t.process] = t.id


def realtime_edges(g: tg.Graph, possible: list[Txn]) -> None:
    """T1 -> T2 when T1 completed ok before T2 was invoked; a transitive reduction, as Elle builds it."""
    events: list[tuple[int, int, int]] = []
    for t in possible:
        events.append((t.invoke_pos, 0, t.id))
        if t.type == "ok" and t.complete_pos is not None:
            events.append((t.complete_pos, 1, t.id))
    events.sort()
    buffer: set[int] = set()
    preds: dict[int, list[int]] = {}
    link = g.link
    for _, kind, node in events:
        if kind == 0:
            if buffer:
                ps = list(buffer)
                preds[node] = ps
                for b in ps:
                    link(b, node, tg.REALTIME)
        else:
            ps = preds.get(node)
            if ps:
                buffer.difference_update(ps)
            buffer.add(node)


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
    elif rel == tg.PROCESS:
        return {**base, "process": a.process}
    elif rel == tg.REALTIME:
        return {**base, "completed_index": a.index, "invoked_index": b.invoke_index}
    return base


def _render_edge(e: dict[str, Any], names: dict[int, str]) -> str:
    a, b = names[e["from"]], names[e["to"]]
    t = e["type"]
    key, value, after = (value_text(e.get(f)) for f in ("key", "value", "value_after"))
    if t == "ww":
        return f"{b} appended {after} after {a} appended {value} to key {key}"
    if t == "wr":
        return f"{b} observed {a}'s append of {value} to key {key}"
    if t == "rw":
        if e.get("value") is None:
            return (
                f"{a} observed the initial (empty) state of key {key}, which {b} "
                f"changed by appending {after}"
            )
        return f"{a} did not observe {b}'s append of {after} to key {key}"
    if t == "process":
        return f"process {e.get('process')} executed {a} before {b}"
    return f"{a} completed at index {e.get('completed_index')} before the invocation of {b}, at index {e.get('invoked_index')}"


def explain_cycle(
    cycle: list[tuple[int, int, int]], txns: list[Txn], idx: Indexes
) -> dict[str, Any]:
    members = [txns[a] for a, _, _ in cycle]
    edges = [_edge_explanation(txns[a], txns[b], rel, idx) for a, b, rel in cycle]
    names = {t.index: f"T{i + 1}" for i, t in enumerate(members)}
    lines = ["Let:"]
    lines += [f"  {names[t.index]} = {op_text(_describe(t))}" for t in members]
    lines.append("Then:")
    for i, e in enumerate(edges):
        lead = "However, " if i == len(edges) - 1 else ""
        tail = ": a contradiction!" if i == len(edges) - 1 else "."
        lines.append(
            f"  - {lead}{names[e['from']]} < {names[e['to']]}, because {_render_edge(e, names)}{tail}"
        )
    return {
        "type": tg.classify([rel for _, _, rel in cycle]),
        "cycle": [_describe(t) for t in members],
        "edges": edges,
        "text": "\n".join(lines),
    }


# ---------------------------------------------------------------- cycle search


def _specs_to_search(
    prohibited: set[str], has_process: bool, has_realtime: bool
) -> list[tg.CycleSpec]:
    specs = list(tg.BASE_SPECS)
    if has_process:
        specs += tg.PROCESS_SPECS
    if has_realtime:
        specs += tg.REALTIME_SPECS
    return [s for s in specs if cm.item(s.name) in prohibited or s.name in prohibited]


def cycle_anomalies(
    g: tg.Graph, txns: list[Txn], idx: Indexes, prohibited: set[str], budget: int
) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    has_process = any(m & tg.PROCESS for s in g.succ for m in s.values())
    has_realtime = any(m & tg.REALTIME for s in g.succ for m in s.values())
    specs = _specs_to_search(prohibited, has_process, has_realtime)
    for scc in sorted(tg.sccs(g, -1), key=len):
        scc.sort()
        here: set[str] = set()
        implied: set[str] = set()
        searched: list[str] = []
        for spec in specs:
            if spec.name in implied:
                continue
            try:
                cycle = tg.find_cycle(g, spec, scc, tg.Budget(budget))
            except tg.SearchBudgetExceeded:
                found.setdefault("cycle-search-timeout", []).append(
                    {
                        "anomaly_spec_type": spec.name,
                        "does_not_contain": [s for s in searched if s not in here],
                        "scc_size": len(scc),
                    }
                )
                searched.append(spec.name)
                continue
            searched.append(spec.name)
            if cycle is None:
                continue
            ex = explain_cycle(cycle, txns, idx)
            name = ex.pop("type")
            found.setdefault(name, []).append(ex)
            here.add(name)
            implied |= cm.implied_anomalies([cm.item(name)])
    return found


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
    models = list(cm.DEFAULT_MODELS) if consistency_models is None else list(consistency_models)
    cm.validate_models(models)
    txns = transactions(history)
    verify_unique_appends(txns)
    prohibited = cm.anomalies_prohibited_by(models) | cm.anomalies_implying(anomalies)
    reportable = prohibited | cm.UNKNOWN_ANOMALIES
    found = find_anomalies(txns, prohibited, cycle_search_budget)
    return result_map(found, prohibited, reportable, models, max_cases)


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
    add("lost-update", lost_update_cases(oks))
    if not possible:
        found["empty-transaction-graph"] = [{"message": "no ok or info transactions"}]
        return found

    idx = build_indexes(possible, _orders(sorted_values))
    g = tg.Graph(len(txns))
    data_edges(g, possible, idx)
    if prohibited & {s.name for s in tg.REALTIME_SPECS}:
        realtime_edges(g, possible)
    elif prohibited & {s.name for s in tg.PROCESS_SPECS}:
        process_edges(g, possible)
    if not any(g.succ):
        found["empty-transaction-graph"] = [{"message": "no dependencies between transactions"}]
    for name, cases in cycle_anomalies(g, txns, idx, prohibited, budget).items():
        add(name, cases)
    return found


def result_map(
    found: dict[str, list[dict[str, Any]]],
    prohibited: set[str],
    reportable: set[str],
    models: list[str],
    max_cases: int,
) -> dict[str, Any]:
    bad = [name for name in found if cm.item(name) in prohibited]
    shown = sorted(name for name in found if cm.item(name) in reportable)
    valid: Any = False if bad else ("unknown" if shown else True)
    result: dict[str, Any] = {
        "valid": valid,
        "model": ", ".join(models),
        "anomaly_types": shown,
        "anomalies": {name: found[name][:max_cases] for name in shown},
        "anomaly_counts": {name: len(found[name]) for name in shown},
    }
    result.update(cm.boundary({cm.item(name) for name in found} - cm.UNKNOWN_ANOMALIES))
    return result
