"""What Elle's transactional checkers share: transactions from a history, the anomalies found
the same way for every data type, process and real-time edges, cycle search with explanations,
and the result map.

A data type (list-append in ``checkers.elle``, rw-register in ``checkers.txn.rw_register``)
supplies how its micro-ops are read and how each data dependency between two transactions
is explained; everything else is here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from splitbrain.checkers.models import thaw
from splitbrain.checkers.txn import graph as tg
from splitbrain.checkers.txn import models as cm
from splitbrain.harness.base.bounds import brief
from splitbrain.harness.base.history import BadOp, Op, pairs
from splitbrain.harness.base.notation import op_text
from splitbrain.harness.base.verdict import GAVE_UP, MARKERS

DEFAULT_BUDGET = 3_000_000
DEFAULT_MAX_CASES = 100

Mop = tuple[str, Hashable, Any]
Case = dict[str, Any]
Found = dict[str, list[Case]]
Cycle = list[tuple[int, int, int]]


class BadHistory(BadOp):
    """Not a history of this transactional data type: bad input, never an ``unknown`` verdict."""


@dataclass(slots=True)
class Txn:
    id: int
    type: str
    process: Any
    mops: list[Mop]
    index: int
    invoke_index: int
    invoke_pos: int
    complete_pos: int | None
    time: int | None
    invoke_time: int | None


# ---------------------------------------------------------------- reading the history


def mop_triples(value: Any, where: int) -> list[tuple[Any, Any, Any]]:
    """``value`` as ``(f, k, v)`` triples, ``f`` a plain string (EDN keywords too)."""
    if not isinstance(value, list):
        raise BadHistory(where, "value is not a list of micro-ops")
    out = []
    for m in value:
        if (type(m) is not list and not isinstance(m, tuple)) or len(m) != 3:
            raise BadHistory(where, f"micro-op {brief(m)} is not [f, key, value]")
        f = m[0]
        out.append(m if type(f) is str else (getattr(f, "name", f), m[1], m[2]))
    return out


def transactions(history: list[Op], parse: Callable[[Any, int], list[Mop]]) -> list[Txn]:
    """Pairs invocations with completions (per process, in order) into transactions.

    ``parse(value, index)`` reads one op's micro-ops. A completion without an invocation
    stands alone; an invocation never completed is ``info``.
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
        txns.append(
            Txn(
                id=len(txns),
                type=comp.type if comp is not None else "info",
                process=main.process,
                mops=parse(value, main.index),
                index=main.index,
                invoke_index=inv.index if inv is not None else main.index,
                invoke_pos=ipos,
                complete_pos=cpos,
                time=main.time,
                invoke_time=inv.time if inv is not None else main.time,
            )
        )
    return txns


def describe(t: Txn) -> Case:
    """A transaction as the result shows it: its completion's fields and micro-ops."""
    return {
        "index": t.index,
        "process": t.process,
        "type": t.type,
        "value": [mop(m) for m in t.mops],
    }


def mop(m: Mop) -> list[Any]:
    f, k, v = m
    return [f, thaw(k), thaw(v) if v is not None else None]


def verify_unique_writes(txns: list[Txn], write: str, verb: str) -> None:
    """Every value is written (``write`` micro-ops) to a key by one transaction at most."""
    seen: dict[tuple[Hashable, Any], int] = {}
    for t in txns:
        for f, k, v in t.mops:
            if f == write:
                other = seen.setdefault((k, v), t.id)
                if other != t.id:
                    raise BadHistory(
                        t.index,
                        f"value {brief(thaw(v))} {verb} key {brief(thaw(k))} more than "
                        f"once (also at index {txns[other].index}); writes must be unique",
                    )


# ---------------------------------------------------------------- anomalies without a graph


def aborted_read_cases(
    oks: list[Txn], failed: list[Txn], write: str, seen: Callable[[Any], Iterable[Any]]
) -> list[Case]:
    """G1a: an ok transaction's read shows a value (``seen(v)``) a failed transaction wrote."""
    return _reads_from(oks, {(k, v): t for t in failed for f, k, v in t.mops if f == write}, seen)


def intermediate_read_cases(
    oks: list[Txn], writers: list[Txn], write: str, last: Callable[[Any], Any]
) -> list[Case]:
    """G1b: a read whose latest value (``last(v)``) another transaction overwrote itself."""
    intermediate: dict[tuple[Hashable, Any], Txn] = {}
    for t in writers:
        latest: dict[Hashable, Any] = {}
        for f, k, v in t.mops:
            if f == write:
                if k in latest:
                    intermediate[(k, latest[k])] = t
                latest[k] = v
    return _reads_from(oks, intermediate, lambda v: (last(v),))


def _reads_from(
    oks: list[Txn], writers: dict[tuple[Hashable, Any], Txn], seen: Callable[[Any], Iterable[Any]]
) -> list[Case]:
    """Reads by other transactions of the values (``seen(v)``) that ``writers`` wrote."""
    if not writers:
        return []
    cases = []
    for t in oks:
        for m in t.mops:
            f, k, v = m
            if f != "r" or v is None:
                continue
            for e in seen(v):
                w = writers.get((k, e))
                if w is not None and w.id != t.id:
                    cases.append(
                        {
                            "op": describe(t),
                            "mop": mop(m),
                            "writer": describe(w),
                            "element": thaw(e),
                        }
                    )
    return cases


def lost_update_cases(oks: list[Txn], blank: Any) -> list[Case]:
    """Two committed transactions that read the same version of a key and both wrote it.

    ``blank`` stands for a read of nothing (nil), so that reads of the empty state group too.
    """
    groups: dict[tuple[Hashable, Any], list[Txn]] = {}
    for t in oks:
        reads: dict[Hashable, Any] = {}
        wrote: set[Hashable] = set()
        for f, k, v in t.mops:
            if f == "r":
                reads.setdefault(k, blank if v is None else v)
            elif k not in wrote:
                wrote.add(k)
                if k in reads:
                    groups.setdefault((k, reads[k]), []).append(t)
    return [
        {"key": thaw(k), "value": thaw(v), "txns": [describe(t) for t in ts]}
        for (k, v), ts in groups.items()
        if len(ts) > 1
    ]


# ---------------------------------------------------------------- process and real-time edges


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


def order_edges(g: tg.Graph, possible: list[Txn], prohibited: set[str]) -> None:
    """Real-time edges when a prohibited anomaly needs them, else process edges when one does."""
    if prohibited & {s.name for s in tg.REALTIME_SPECS}:
        realtime_edges(g, possible)
    elif prohibited & {s.name for s in tg.PROCESS_SPECS}:
        process_edges(g, possible)


# ---------------------------------------------------------------- explaining cycles

EdgeExplainer = Callable[[Txn, Txn, int], Case]
"""The data behind one edge ``a -> b`` of a relation: its key and the values that order them."""
EdgeRenderer = Callable[[Case, str, str], str]
"""A data edge's reason in words, given the two transactions' names in the explanation."""


def _order_explanation(a: Txn, b: Txn, rel: int) -> Case:
    base: Case = {"from": a.index, "to": b.index, "type": tg.REL_NAMES[rel]}
    if rel == tg.PROCESS:
        return {**base, "process": a.process}
    if rel == tg.REALTIME:
        return {**base, "completed_index": a.index, "invoked_index": b.invoke_index}
    return base


def _render_order(e: Case, a: str, b: str) -> str:
    if e["type"] == "process":
        return f"process {e.get('process')} executed {a} before {b}"
    return (
        f"{a} completed at index {e.get('completed_index')} before the invocation of {b}, "
        f"at index {e.get('invoked_index')}"
    )


def explain_cycle(
    cycle: Cycle, txns: list[Txn], explain_edge: EdgeExplainer, render_edge: EdgeRenderer
) -> Case:
    """A cycle as data (its transactions and edges) and as Elle's "Let / Then" text."""
    members = [txns[a] for a, _, _ in cycle]
    edges = [
        explain_edge(txns[a], txns[b], rel)
        if rel & tg.DATA
        else _order_explanation(txns[a], txns[b], rel)
        for a, b, rel in cycle
    ]
    names = {t.index: f"T{i + 1}" for i, t in enumerate(members)}
    lines = ["Let:"]
    lines += [f"  {names[t.index]} = {op_text(describe(t))}" for t in members]
    lines.append("Then:")
    for i, e in enumerate(edges):
        a, b = names[e["from"]], names[e["to"]]
        why = render_edge(e, a, b) if e["type"] in ("ww", "wr", "rw") else _render_order(e, a, b)
        last = i == len(edges) - 1
        lead = "However, " if last else ""
        tail = ": a contradiction!" if last else "."
        lines.append(f"  - {lead}{a} < {b}, because {why}{tail}")
    return {
        "type": tg.classify([rel for _, _, rel in cycle]),
        "cycle": [describe(t) for t in members],
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


def rules_out_cycles(prohibited: set[str]) -> bool:
    """Whether any cycle anomaly is prohibited (so an empty graph settles something)."""
    return bool(_specs_to_search(prohibited, True, True))


def cycle_anomalies(
    g: tg.Graph, prohibited: set[str], budget: int, explain: Callable[[Cycle], Case]
) -> Found:
    """The shortest cycle of each prohibited class in each strongly connected component,
    explained by ``explain``; a search out of budget is a ``cycle-search-timeout`` case."""
    found: Found = {}
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
                found.setdefault(GAVE_UP, []).append(
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
            ex = explain(cycle)
            name = ex.pop("type")
            found.setdefault(name, []).append(ex)
            here.add(name)
            implied |= cm.implied_anomalies([cm.item(name)])
    return found


# ---------------------------------------------------------------- the result


def prohibited_anomalies(
    consistency_models: Iterable[str] | None, anomalies: Iterable[str]
) -> tuple[list[str], set[str]]:
    """The claimed models (default strict-serializable) and every anomaly they or
    ``anomalies`` rule out; raises ValueError for an unknown model name."""
    models = list(cm.DEFAULT_MODELS) if consistency_models is None else list(consistency_models)
    cm.validate_models(models)
    return models, cm.anomalies_prohibited_by(models) | cm.anomalies_implying(anomalies)


def prohibited_found(found: Found, prohibited: set[str]) -> list[str]:
    """The anomalies found that the claim prohibits (any one makes the history invalid)."""
    return [name for name in found if cm.item(name) in prohibited]


def result_map(found: Found, prohibited: set[str], models: list[str], max_cases: int) -> Case:
    """``valid`` (false for a prohibited anomaly, unknown when a search gave up), the
    anomalies shown, their counts, ``not`` / ``also_not``, and ``vacuous`` when the
    transactions had no dependencies to judge."""
    reportable = prohibited | cm.UNKNOWN_ANOMALIES
    bad = prohibited_found(found, prohibited)
    shown = sorted(name for name in found if cm.item(name) in reportable)
    valid: Any = False if bad else ("unknown" if shown else True)
    result: Case = {
        "valid": valid,
        "model": ", ".join(models),
        "anomaly_types": shown,
        "anomalies": {name: found[name][:max_cases] for name in shown},
        "anomaly_counts": {name: len(found[name]) for name in shown},
    }
    result.update(cm.boundary({cm.item(name) for name in found} - MARKERS))
    if cm.EMPTY_GRAPH in found:
        result["vacuous"] = found[cm.EMPTY_GRAPH][0]["message"]
    return result
