"""Elle's rw-register checker: transactional anomalies from a history of register reads and writes.

Every op is a transaction whose value is a list of micro-ops ``["r", k, v]`` (read key ``k``,
saw ``v``; nil before any write) and ``["w", k, v]`` (set ``k`` to ``v``); every written value
is unique per key. Unlike a list, a register does not show its past, so each key's version
order is inferred, as a graph over its values, from sources added one after another:

- ``initial-state`` (always): nil comes before every value of the key.
- ``wfr-keys`` (``assume``): writes follow reads inside a transaction: one that read
  ``k = v`` and then wrote ``k = v'`` orders ``v < v'``. Opt-in, as Elle's ``wfr-keys?``, so
  that a history Elle's own tests call valid without it is valid here too.
- ``sequential-keys`` (``assume``): each key is sequentially consistent, so each process's
  transactions see its versions in order: the last value one transaction of a process
  interacted with precedes the first value the next one of that process interacted with.
- ``linearizable-keys`` (``assume``): each key is linearizable, so the same holds along
  real time: a transaction that completed before another was invoked saw an earlier version.

A source whose edges would close a cycle in some key's version order is left out, and the
cycle is reported as ``cyclic-versions`` (the sources it needed included), as Elle does.
From the version orders come write-write and read-write edges between transactions (with
write-read edges from the values read), plus process or real-time edges when the claimed
models need them; cycle search and the anomalies found without a graph (aborted, intermediate
and future reads, internal inconsistency, dirty and lost updates) are those of list-append
(``checkers.txn.core``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from splitbrain.checkers.models import ModelInputError, freeze, thaw
from splitbrain.checkers.txn import core
from splitbrain.checkers.txn import graph as tg
from splitbrain.checkers.txn import models as cm
from splitbrain.checkers.txn.core import DEFAULT_BUDGET, DEFAULT_MAX_CASES, BadHistory, Txn
from splitbrain.harness.base.bounds import brief
from splitbrain.harness.base.history import Op
from splitbrain.harness.base.notation import value_text

ASSUMPTIONS = ("sequential-keys", "linearizable-keys", "wfr-keys")
"""What a user may assert about the keys, each adding a source of version orders."""

Version = tuple[Hashable, Any]
"""A key and one of its values (None: the initial state)."""


# ---------------------------------------------------------------- reading the history


def _mops(value: Any, where: int) -> list[core.Mop]:
    out: list[core.Mop] = []
    for f, k, v in core.mop_triples(value, where):
        if f != "r" and f != "w":
            raise BadHistory(where, f"micro-op {brief(f)} is neither w nor r")
        if f == "w" and v is None:
            raise BadHistory(where, f"write of nil to key {brief(k)}: nil is the initial state")
        out.append((f, freeze(k), freeze(v)))
    return out


def transactions(history: list[Op]) -> list[Txn]:
    """rw-register transactions (``core.transactions``)."""
    return core.transactions(history, _mops)


def validate_assumptions(assume: Iterable[str]) -> list[str]:
    """The assumptions, or raises ValueError naming an unknown one."""
    given = list(assume)
    unknown = [a for a in given if a not in ASSUMPTIONS]
    if unknown:
        raise ValueError(
            f"unknown assumption(s) {', '.join(map(str, unknown))}; known: {', '.join(ASSUMPTIONS)}"
        )
    return given


@dataclass(slots=True)
class External:
    """Per transaction: the first read of each key before any write of it, and the last write."""

    reads: list[dict[Hashable, Any]]
    writes: list[dict[Hashable, Any]]

    def first(self, t: Txn, k: Hashable) -> Any:
        """The first version of ``k`` that ``t`` is known to have interacted with (``_NONE``: none)."""
        if t.type == "ok" and k in self.reads[t.id]:
            return self.reads[t.id][k]
        return self.writes[t.id].get(k, _NONE)

    def final(self, t: Txn, k: Hashable) -> Any:
        """The last version of ``k`` that ``t`` is known to have left or seen (``_NONE``: none)."""
        w = self.writes[t.id]
        if k in w:
            return w[k]
        if t.type == "ok":
            return self.reads[t.id].get(k, _NONE)
        return _NONE

    def keys(self, t: Txn) -> Iterable[Hashable]:
        if t.type == "ok":
            return {**self.reads[t.id], **self.writes[t.id]}.keys()
        return self.writes[t.id].keys()


_NONE = object()


def external(txns: list[Txn]) -> External:
    reads: list[dict[Hashable, Any]] = []
    writes: list[dict[Hashable, Any]] = []
    for t in txns:
        r: dict[Hashable, Any] = {}
        w: dict[Hashable, Any] = {}
        for f, k, v in t.mops:
            if f == "w":
                w[k] = v
            elif k not in w and k not in r:
                r[k] = v
        reads.append(r)
        writes.append(w)
    return External(reads, writes)


# ---------------------------------------------------------------- anomalies without a graph


def unwritten_read(oks: list[Txn], txns: list[Txn]) -> str | None:
    """The first read of a value no transaction (ok, info or failed) wrote and that is not
    the initial nil, in words; None when every read value has a writer."""
    written = {(k, v) for t in txns for f, k, v in t.mops if f == "w"}
    for t in oks:
        for f, k, v in t.mops:
            if f == "r" and v is not None and (k, v) not in written:
                return f"{core.describe(t)} reads {thaw(k)} = {thaw(v)}"
    return None


def internal_case(t: Txn) -> core.Case | None:
    """A read that differs from what the transaction itself last read or wrote of that key."""
    state: dict[Hashable, Any] = {}
    for m in t.mops:
        f, k, v = m
        if f == "r" and k in state and state[k] != v:
            return {"op": core.describe(t), "mop": core.mop(m), "expected": thaw(state[k])}
        state[k] = v
    return None


def future_read_case(t: Txn) -> core.Case | None:
    """A read that saw the value this same transaction writes later."""
    read: dict[Version, core.Mop] = {}
    for m in t.mops:
        f, k, v = m
        if f == "r":
            read.setdefault((k, v), m)
        elif (k, v) in read:
            return {"op": core.describe(t), "mop": core.mop(read[(k, v)]), "element": thaw(v)}
    return None


def _one(v: Any) -> tuple[Any, ...]:
    return (v,)


def _same(v: Any) -> Any:
    return v


# ---------------------------------------------------------------- version orders


class Versions:
    """Versions (key, value) numbered, and the order edges between them.

    The initial state's edges (nil before every other value of its key) are left implicit:
    ``edges`` holds those of the other sources.
    """

    def __init__(self) -> None:
        self.ids: dict[Version, int] = {}
        self.names: list[Version] = []
        self.edges: set[tuple[int, int]] = set()

    def id(self, k: Hashable, v: Any) -> int:
        i = self.ids.get((k, v))
        if i is None:
            i = self.ids[(k, v)] = len(self.names)
            self.names.append((k, v))
        return i

    def cycles(self, extra: set[tuple[int, int]]) -> list[list[int]]:
        """The cycles (strongly connected components) of the order with ``extra`` edges added.

        Only edges between non-initial versions can close a cycle, unless an edge leads back
        to an initial state, so only those are searched, over a graph of just their ends.
        """
        names = self.names
        edges = self.edges | extra
        back_to_start = {names[b][0] for _, b in edges if names[b][1] is None}
        if back_to_start:
            for i, (k, v) in enumerate(names):
                if k in back_to_start and v is not None:
                    edges.add((self.id(k, None), i))
        local: dict[int, int] = {}
        for a, b in edges:
            local.setdefault(a, len(local))
            local.setdefault(b, len(local))
        g = tg.Graph(len(local))
        for a, b in edges:
            g.link(local[a], local[b], 1)
        back = list(local)
        return [[back[i] for i in scc] for scc in tg.sccs(g, -1)]


def _writes_follow_reads(oks: list[Txn], ext: External, vs: Versions) -> set[tuple[int, int]]:
    out = set()
    for t in oks:
        writes = ext.writes[t.id]
        for k, v in ext.reads[t.id].items():
            w = writes.get(k, _NONE)
            if v is not None and w is not _NONE and w != v:
                out.add((vs.id(k, v), vs.id(k, w)))
    return out


def _by_process(possible: list[Txn]) -> dict[Any, list[Txn]]:
    out: dict[Any, list[Txn]] = {}
    for t in sorted(
        possible, key=lambda t: t.complete_pos if t.complete_pos is not None else t.invoke_pos
    ):
        if t.process is not None:
            out.setdefault(t.process, []).append(t)
    return out


def _link(out: set[tuple[int, int]], vs: Versions, k: Hashable, v1: Any, v2: Any) -> None:
    if v1 is not _NONE and v2 is not _NONE and v1 != v2:
        out.add((vs.id(k, v1), vs.id(k, v2)))


def _sequential_keys(possible: list[Txn], ext: External, vs: Versions) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    for ts in _by_process(possible).values():
        last: dict[Hashable, Any] = {}
        for t in ts:
            for k in ext.keys(t):
                if k in last:
                    _link(out, vs, k, last[k], ext.first(t, k))
                last[k] = ext.final(t, k)
    return out


def _linearizable_keys(possible: list[Txn], ext: External, vs: Versions) -> set[tuple[int, int]]:
    """For each key, each completed transaction's version before those of the earliest
    transactions invoked after it completed (the minimal ones of the real-time order)."""
    never = float("inf")
    touching: dict[Hashable, list[tuple[int, float, Txn]]] = {}
    for t in possible:
        end = t.complete_pos if t.type == "ok" and t.complete_pos is not None else never
        for k in ext.keys(t):
            touching.setdefault(k, []).append((t.invoke_pos, end, t))
    out: set[tuple[int, int]] = set()
    for k, ts in touching.items():
        ts.sort(key=lambda e: e[0])
        starts = [e[0] for e in ts]
        earliest_end = [never] * (len(ts) + 1)
        for i in range(len(ts) - 1, -1, -1):
            earliest_end[i] = min(ts[i][1], earliest_end[i + 1])
        for _, end, a in ts:
            if end == never:
                continue
            i = bisect_right(starts, end)
            bound = earliest_end[i]
            v1 = ext.final(a, k)
            while i < len(ts) and ts[i][0] < bound:
                _link(out, vs, k, v1, ext.first(ts[i][2], k))
                i += 1
    return out


_SOURCES = (
    ("wfr-keys", _writes_follow_reads),
    ("sequential-keys", _sequential_keys),
    ("linearizable-keys", _linearizable_keys),
)


def version_orders(
    txns: list[Txn], ext: External, assume: Iterable[str]
) -> tuple[Versions, list[str], list[core.Case]]:
    """The version graph from every source that keeps it acyclic, the sources used, and
    ``cyclic-versions`` cases for those left out.

    Sources are tried in ``_SOURCES`` order, each kept only if it closes no cycle; when all
    of them together close none (a valid history), one search settles it.
    """
    assumed = set(assume)
    possible = [t for t in txns if t.type != "fail"]
    oks = [t for t in possible if t.type == "ok"]
    vs = Versions()
    chosen = [
        (name, source(oks if name == "wfr-keys" else possible, ext, vs))
        for name, source in _SOURCES
        if name not in ASSUMPTIONS or name in assumed
    ]
    used = ["initial-state"]
    everything = set().union(*(edges for _, edges in chosen))
    if not vs.cycles(everything):
        vs.edges = everything
        return vs, used + [name for name, _ in chosen], []
    cases: list[core.Case] = []
    for name, edges in chosen:
        new = edges - vs.edges
        cycles = vs.cycles(new) if new else []
        if cycles:
            for scc in cycles:
                k = vs.names[scc[0]][0]
                values = sorted((thaw(vs.names[i][1]) for i in scc), key=repr)
                cases.append({"key": thaw(k), "scc": values, "sources": [*used, name]})
            continue
        vs.edges |= new
        used.append(name)
    return vs, used, cases


# ---------------------------------------------------------------- the dependency graph


@dataclass(slots=True)
class Indexes:
    """Who wrote each version (last write of an ok or info transaction) and who read it first."""

    writer: dict[Version, int]
    readers: dict[Version, list[int]]
    versions: Versions


def build_indexes(possible: list[Txn], ext: External, vs: Versions) -> Indexes:
    writer: dict[Version, int] = {}
    readers: dict[Version, list[int]] = {}
    for t in possible:
        for k, v in ext.writes[t.id].items():
            writer[(k, v)] = t.id
        if t.type == "ok":
            for k, v in ext.reads[t.id].items():
                readers.setdefault((k, v), []).append(t.id)
    return Indexes(writer, readers, vs)


def data_edges(g: tg.Graph, oks: list[Txn], ext: External, idx: Indexes) -> None:
    """wr edges from the values read; ww and rw edges from each version-order edge, and rw
    edges from each read of a key's initial state to every write of that key."""
    link = g.link
    writer = idx.writer
    for t in oks:
        for k, v in ext.reads[t.id].items():
            if v is not None:
                w = writer.get((k, v))
                if w is not None:
                    link(w, t.id, tg.WR)
    readers = idx.readers
    by_key: dict[Hashable, list[int]] = {}
    for (k, _), w in writer.items():
        by_key.setdefault(k, []).append(w)
    for (k, v), rs in readers.items():
        if v is None:
            for w in by_key.get(k, ()):
                for r in rs:
                    link(r, w, tg.RW)
    names = idx.versions.names
    for a, b in idx.versions.edges:
        w2 = writer.get(names[b])
        if w2 is None:
            continue
        first = names[a]
        w1 = writer.get(first)
        if w1 is not None:
            link(w1, w2, tg.WW)
        for r in readers.get(first, ()):
            link(r, w2, tg.RW)


def dirty_update_cases(txns: list[Txn], ext: External, vs: Versions) -> list[core.Case]:
    """A committed write right after a failed one in some key's version order."""
    failed = {(k, v): t for t in txns if t.type == "fail" for f, k, v in t.mops if f == "w"}
    if not failed:
        return []
    committed = {(k, v): t for t in txns if t.type == "ok" for k, v in ext.writes[t.id].items()}
    cases = []
    for a, b in sorted(vs.edges):
        w1, w2 = failed.get(vs.names[a]), committed.get(vs.names[b])
        if w1 is not None and w2 is not None:
            k = vs.names[a][0]
            cases.append(
                {
                    "key": thaw(k),
                    "values": [thaw(vs.names[a][1]), thaw(vs.names[b][1])],
                    "txns": [core.describe(w1), core.describe(w2)],
                }
            )
    return cases


# ---------------------------------------------------------------- explaining cycles


def _edge_explanation(a: Txn, b: Txn, rel: int, ext: External, vs: Versions) -> core.Case:
    base: core.Case = {"from": a.index, "to": b.index, "type": tg.REL_NAMES[rel]}
    if rel == tg.WR:
        reads = ext.reads[b.id]
        for k, v in ext.writes[a.id].items():
            if k in reads and reads[k] == v:
                return {**base, "key": thaw(k), "value": thaw(v)}
        return base
    before = ext.writes[a.id] if rel == tg.WW else ext.reads[a.id]
    for k, v in before.items():
        after = ext.writes[b.id].get(k, _NONE)
        if after is _NONE:
            continue
        i, j = vs.ids.get((k, v)), vs.ids.get((k, after))
        if v is None or (i is not None and j is not None and (i, j) in vs.edges):
            return {**base, "key": thaw(k), "value": thaw(v), "value_after": thaw(after)}
    return base


def _render_edge(e: core.Case, a: str, b: str) -> str:
    key, value, after = (value_text(e.get(f)) for f in ("key", "value", "value_after"))
    t = e["type"]
    if t == "wr":
        return f"{a} wrote key {key} = {value}, which was read by {b}"
    later = f"{b} set it to {after}, which came later in the version order"
    if t == "ww":
        return f"{a} set key {key} to {value}, and {later}"
    if e.get("value") is None:
        return f"{a} read key {key} in its initial (null) state, and {later}"
    return f"{a} read key {key} = {value}, and {later}"


# ---------------------------------------------------------------- the checker


def check(
    history: list[Op],
    consistency_models: Iterable[str] | None = None,
    anomalies: Iterable[str] = (),
    assume: Iterable[str] = (),
    cycle_search_budget: int = DEFAULT_BUDGET,
    max_cases: int = DEFAULT_MAX_CASES,
) -> dict[str, Any]:
    """Check an rw-register history against ``consistency_models`` (Elle's names; default
    strict-serializable), inferring version orders also from the assumed properties (``assume``)
    of the keys (``ASSUMPTIONS``).

    Raises ValueError for an unknown model or assumption, ``BadHistory`` for a malformed
    history. ``anomalies`` and ``cycle_search_budget`` are as list-append's
    (``checkers.elle.check``). The result says which version-order sources it used
    (``version_order_sources``).
    """
    assumed = validate_assumptions(assume)
    models, prohibited = core.prohibited_anomalies(consistency_models, anomalies)
    txns = transactions(history)
    core.verify_unique_writes(txns, "w", "written to")
    found, sources = find_anomalies(txns, prohibited, assumed, cycle_search_budget)
    result = core.result_map(found, prohibited, models, max_cases)
    result["assumptions"] = sorted(set(assumed))
    result["version_order_sources"] = sources
    return result


def find_anomalies(
    txns: list[Txn], prohibited: set[str], assume: Iterable[str], budget: int
) -> tuple[core.Found, list[str]]:
    oks = [t for t in txns if t.type == "ok"]
    failed = [t for t in txns if t.type == "fail"]
    possible = [t for t in txns if t.type != "fail"]
    found: core.Found = {}

    def add(name: str, cases: list[core.Case]) -> None:
        if cases:
            found.setdefault(name, []).extend(cases)

    ext = external(txns)
    add("G1a", core.aborted_read_cases(oks, failed, "w", _one))
    add("G1b", core.intermediate_read_cases(oks, txns, "w", _same))
    add("internal", [c for t in oks if len(t.mops) > 1 and (c := internal_case(t))])
    add("future-read", [c for t in oks if len(t.mops) > 1 and (c := future_read_case(t))])
    add("lost-update", core.lost_update_cases(oks, None))
    vs, sources, cyclic = version_orders(txns, ext, assume)
    add("cyclic-versions", cyclic)
    add("dirty-update", dirty_update_cases(txns, ext, vs))
    if not possible:
        found[cm.EMPTY_GRAPH] = [{"message": "no ok or info transactions"}]
        return found, sources

    g = tg.Graph(len(txns))
    data_edges(g, oks, ext, build_indexes(possible, ext, vs))
    core.order_edges(g, possible, prohibited)
    if not any(g.succ):
        decided = core.prohibited_found(found, prohibited)
        if (
            not decided
            and core.rules_out_cycles(prohibited)
            and (read := unwritten_read(oks, txns)) is not None
        ):
            raise ModelInputError(
                f"{read}, a value no transaction in the history wrote, and nothing else relates "
                "the transactions: no verdict can be reached (record every write, or order the "
                "versions with --assume sequential-keys or linearizable-keys)"
            )
        found[cm.EMPTY_GRAPH] = [{"message": "no dependencies between transactions"}]

    def explain(cycle: core.Cycle) -> core.Case:
        return core.explain_cycle(
            cycle, txns, lambda a, b, rel: _edge_explanation(a, b, rel, ext, vs), _render_edge
        )

    for name, cases in core.cycle_anomalies(g, prohibited, budget, explain).items():
        add(name, cases)
    return found, sources
