"""Causal consistency of register and key-value histories whose written values are unique per
key, by the bad patterns of Bouajjani, Enea, Guerraoui and Hamza, "On verifying causal
consistency" (POPL 2017), in polynomial time.

Usage::

    from splitbrain.checkers.causal import check
    result = check(history)                  # causal convergence (CCv), the default
    result = check(history, variant="CC")    # weak causal consistency only

Variant. ``check`` decides **causal convergence (CCv)**: causal consistency with one
arbitration order of the writes that every process agrees on (what a causally consistent store
that converges provides, e.g. last-writer-wins replicas that deliver causally). It also
reports whether the history is **weakly causally consistent (CC)**, the weakest of the
paper's three variants, under ``"cc"``; ``variant="CC"`` makes that the verdict. (CCv and
causal memory, CM, are incomparable; CM is not checked.) Both are across keys: a process's
order and what it read link ops of different keys.

Relations. ``po``: each process's order; ``wr``: each read from the write of the value it
read (values are unique, so the write is known); causal order ``co = (po ∪ wr)+``. The
history is CC iff it shows none of these bad patterns, and CCv iff additionally ``cf`` is
consistent with ``co``:

- ``ThinAirRead``: a read of a value no write wrote (and not the initial value).
- ``CyclicCO``: ``co`` has a cycle (a read that causally precedes its own write).
- ``WriteCOInitRead``: a read of the initial value of a key that has a write causally before it.
- ``WriteCORead``: a read of ``x`` from ``w1`` where another write ``w2`` of ``x`` lies causally
  between them (``w1 co w2 co read``): the read should have seen ``w2`` or later.
- ``CyclicCF`` (CCv only): with ``w1 cf w2`` whenever a read of ``x`` from ``w2`` causally
  follows ``w1``, another write of ``x`` (so ``w2`` won over ``w1`` in arbitration), ``co ∪ cf``
  has a cycle: no single arbitration order explains every read.

Ops and outcomes as the session checks read them (``checkers.session.register_events``): an
ok CAS is a read of ``old`` followed by a write of ``new``; ``fail`` ops did not happen; an
indeterminate write took effect if someone read its value and is otherwise left out (an
unobserved write causally precedes nothing, so it can take part in no bad pattern);
indeterminate reads say nothing. A history whose written values repeat is refused
(``ModelInputError``): the reads-from relation would be a guess.

Result::

    {"valid": True | False, "consistency": "causal convergence (CCv)" | "weak causal
     consistency (CC)", "variant": "CCv" | "CC", "cc": True | False, "events": n,
     "bad_patterns": [name, ...], "violations": [violation, ...] (first 10),
     "violations_total": n, "violation": first}

A violation: {"pattern", "key", "processes", "ops" (in the order of the pattern or cycle;
for CyclicCF the cycle's writes, then the reads that order them; the causal paths that lead
to those reads are not listed), "text"}.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Hashable, Iterator
from typing import Any

from splitbrain.checkers.models import ModelInputError, thaw
from splitbrain.checkers.session import INIT, Event, RegisterHistory, register_events
from splitbrain.harness.base.notation import value_text

__all__ = ["check", "VARIANTS"]

VARIANTS = {"CCv": "causal convergence (CCv)", "CC": "weak causal consistency (CC)"}
CC_PATTERNS = ("ThinAirRead", "CyclicCO", "WriteCOInitRead", "WriteCORead")
MAX_VIOLATIONS = 10
CHECK_EVERY = 512
"""Loop steps between looks at the clock."""
SHORT_CYCLE_TRIES = 50
"""Starts tried for a shorter cycle once one is found."""


def check(
    history: list[Any],
    model: str | None = None,
    *,
    init: Any = None,
    variant: str = "CCv",
    timeout: float | None = None,
) -> dict[str, Any]:
    """Check causal consistency (``variant`` "CCv" or "CC"); see the module docstring.
    The check is polynomial but quadratic in memory and time on long histories: past
    ``timeout`` seconds it answers ``unknown`` (``unknown_reason: "timeout"``)."""
    if variant not in VARIANTS:
        raise ModelInputError(
            f"causal variant must be one of {', '.join(VARIANTS)}, not {variant!r}"
        )
    if model not in (None, "register", "cas-register", "kv"):
        raise ModelInputError(
            f"causal consistency applies to register and kv histories, not {model!r}"
        )
    h = register_events(history, init)
    _require_unique(h)
    g = _Graph.of(h)
    g.deadline = None if timeout is None else time.monotonic() + timeout
    try:
        violations = g.cc_violations()
        cc = not violations
        if cc and variant == "CCv":
            violations = g.cf_violations()
    except _OutOfTime:
        return {
            "valid": "unknown",
            "unknown_reason": "timeout",
            "consistency": VARIANTS[variant],
            "variant": variant,
            "events": len(g.nodes),
        }
    patterns = sorted({v["pattern"] for v in violations}, key=_pattern_rank)
    result: dict[str, Any] = {
        "valid": not violations,
        "consistency": VARIANTS[variant],
        "variant": variant,
        "cc": cc,
        "events": len(g.nodes),
        "bad_patterns": patterns,
        "violations": violations[:MAX_VIOLATIONS],
        "violations_total": len(violations),
    }
    if violations:
        result["violation"] = violations[0]
    return result


def _pattern_rank(name: str) -> int:
    order = (*CC_PATTERNS, "CyclicCF")
    return order.index(name) if name in order else len(order)


def _require_unique(h: RegisterHistory) -> None:
    for (key, value), ws in h.writers.items():
        where = f"key {value_text(thaw(key))}: " if key is not None else ""
        if len(ws) > 1:
            raise ModelInputError(
                f"{where}value {value_text(thaw(value))} is written {len(ws)} times (history "
                f"{', '.join(str(w.op['invoke_index']) for w in ws[:3])}); the causal check needs "
                "written values unique per key"
            )
        if value == h.init:
            raise ModelInputError(
                f"{where}a write of the initial value {value_text(thaw(value))} (history "
                f"{ws[0].op['invoke_index']}); the causal check needs written values unique per "
                "key and different from the initial value"
            )


class _OutOfTime(Exception):
    pass


class _Graph:
    """po ∪ wr over the events that matter, with co's ancestor sets as integer bitsets."""

    deadline: float | None = None

    def tick(self, step: int) -> None:
        if step % CHECK_EVERY == 0 and self.deadline is not None:
            if time.monotonic() > self.deadline:
                raise _OutOfTime

    def __init__(self, h: RegisterHistory, nodes: list[Event]) -> None:
        self.h = h
        self.nodes = nodes
        self.index = {e.id: i for i, e in enumerate(nodes)}
        n = len(nodes)
        self.succ: list[list[int]] = [[] for _ in range(n)]
        self.rel: dict[tuple[int, int], str] = {}
        self.src: dict[int, int] = {}
        """read node -> write node it read from."""
        self.cf_by: dict[tuple[int, int], int] = {}
        """cf edge -> the read that makes it."""
        self.init_reads: list[int] = []
        self.thin: list[int] = []

    @classmethod
    def of(cls, h: RegisterHistory) -> _Graph:
        observed = {
            s.id for e in h.events if e.kind == "read" for s in h.sources(e) if s is not INIT
        }
        nodes = [e for e in h.events if e.kind == "read" or e.ok or e.id in observed]
        g = cls(h, nodes)
        for session in h.sessions.values():
            # An indeterminate write follows its session's earlier events but precedes none
            # of its later ones: it may have taken effect any time after its invocation.
            before: int | None = None
            for e in session:
                i = g.index.get(e.id)
                if i is None:
                    continue
                if before is not None:
                    g._link(before, i, "po")
                if e.ok:
                    before = i
        for i, e in enumerate(nodes):
            if e.kind != "read":
                continue
            sources = h.sources(e)
            if not sources:
                g.thin.append(i)
            elif sources[0] is INIT:
                g.init_reads.append(i)
            else:
                w = g.index[sources[0].id]
                g.src[i] = w
                g._link(w, i, "wr")
        return g

    def _link(self, a: int, b: int, rel: str) -> None:
        if (a, b) not in self.rel:
            self.succ[a].append(b)
            self.rel[(a, b)] = rel

    # ------------------------------------------------------------ CC

    def cc_violations(self) -> list[dict[str, Any]]:
        out = [self._thin_air(i) for i in self.thin]
        order = _topological(len(self.nodes), self.succ)
        if order is None:
            cycle = _cycle(len(self.nodes), self.succ)
            assert cycle is not None
            return [*out, self._cycle_violation("CyclicCO", cycle)]
        anc = self._ancestors(order)
        self.anc = anc
        wmask: dict[Hashable, int] = {}
        for i, e in enumerate(self.nodes):
            if e.kind == "write":
                wmask[e.key] = wmask.get(e.key, 0) | (1 << i)
        self.wmask = wmask
        for r in self.init_reads:
            before = anc[r] & wmask.get(self.nodes[r].key, 0)
            if before:
                w = _lowest(before)
                out.append(self._write_co_init_read(w, r))
        desc = self._descendants(order)
        for step, (r, w1) in enumerate(self.src.items()):
            self.tick(step)
            between = anc[r] & wmask[self.nodes[r].key] & desc[w1]
            if between:
                out.append(self._write_co_read(w1, _lowest(between), r))
        return out

    def _descendants(self, order: list[int]) -> list[int]:
        desc = [0] * len(self.nodes)
        for step, v in enumerate(reversed(order)):
            self.tick(step)
            m = 0
            for s in self.succ[v]:
                m |= desc[s] | (1 << s)
            desc[v] = m
        return desc

    def _ancestors(self, order: list[int]) -> list[int]:
        preds: list[list[int]] = [[] for _ in self.nodes]
        for a, bs in enumerate(self.succ):
            for b in bs:
                preds[b].append(a)
        anc = [0] * len(self.nodes)
        for step, v in enumerate(order):
            self.tick(step)
            m = 0
            for p in preds[v]:
                m |= anc[p] | (1 << p)
            anc[v] = m
        return anc

    # ------------------------------------------------------------ CCv

    def cf_violations(self) -> list[dict[str, Any]]:
        """co ∪ cf acyclic? cf: every other write of x causally before a read of x from w
        precedes w. Only each process's last such write needs an edge: its earlier ones
        precede it in co already."""
        succ = [list(s) for s in self.succ]
        rel = dict(self.rel)
        by_process: dict[Hashable, dict[Any, int]] = {}
        for i, e in enumerate(self.nodes):
            if e.kind == "write":
                masks = by_process.setdefault(e.key, {})
                masks[e.process] = masks.get(e.process, 0) | (1 << i)
        for step, (r, w) in enumerate(self.src.items()):
            self.tick(step)
            for mask in by_process[self.nodes[r].key].values():
                others = self.anc[r] & mask & ~(1 << w)
                if not others:
                    continue
                w1 = others.bit_length() - 1  # the process's last such write: the rest precede it
                if (w1, w) not in rel:
                    succ[w1].append(w)
                    rel[(w1, w)] = "cf"
                    self.cf_by[(w1, w)] = r
        cycle = _cycle(len(self.nodes), succ)
        if cycle is None:
            return []
        return [self._cycle_violation("CyclicCF", cycle, rel)]

    # ------------------------------------------------------------ explanations

    def _path(self, a: int, b: int) -> list[int]:
        """A shortest po/wr path from a to b (b causally after a)."""
        parent = {a: -1}
        queue = deque([a])
        while queue:
            u = queue.popleft()
            if u == b:
                break
            for v in self.succ[u]:
                if v not in parent:
                    parent[v] = u
                    queue.append(v)
        path = [b]
        while parent[path[-1]] != -1:
            path.append(parent[path[-1]])
        return path[::-1]

    def _chain_text(self, path: list[int], rel: dict[tuple[int, int], str] | None = None) -> str:
        rel = rel or self.rel
        parts = [self._text(path[0])]
        for a, b in zip(path, path[1:], strict=False):
            kind = rel[(a, b)]
            if kind == "po":
                parts.append(f"then {self._text(b)}")
            elif kind == "wr":
                parts.append(f"read by {self._text(b)}")
            else:
                parts.append(
                    f"arbitrated before {self._text(b)} (as {self._text(self.cf_by[(a, b)])} "
                    f"saw the earlier write and read the later)"
                )
        return " → ".join(parts)

    def _text(self, i: int) -> str:
        e = self.nodes[i]
        key = f"{value_text(thaw(e.key))} " if e.key is not None else ""
        what = "read" if e.kind == "read" else "wrote"
        init = " (the initial value)" if e.kind == "read" and e.value == self.h.init else ""
        return (
            f"process {e.process} {what} {key}{value_text(thaw(e.value))}{init} "
            f"(history {e.op['invoke_index']})"
        )

    def _violation(self, pattern: str, ops: list[int], text: str) -> dict[str, Any]:
        seen: list[int] = []
        for i in ops:
            if i not in seen:
                seen.append(i)
        events = [self.nodes[i] for i in seen]
        key = events[-1].key
        return {
            "pattern": pattern,
            "key": thaw(key),
            "processes": sorted({e.process for e in events}, key=repr),
            "ops": [e.op for e in events],
            "text": text,
        }

    def _thin_air(self, r: int) -> dict[str, Any]:
        return self._violation(
            "ThinAirRead", [r], f"{self._text(r)}: no write wrote that value (thin-air read)"
        )

    def _write_co_init_read(self, w: int, r: int) -> dict[str, Any]:
        path = self._path(w, r)
        return self._violation(
            "WriteCOInitRead",
            path,
            f"{self._chain_text(path)}: the read returned the initial value although a write "
            "of that key causally precedes it",
        )

    def _write_co_read(self, w1: int, w2: int, r: int) -> dict[str, Any]:
        p1 = self._path(w1, w2)
        p2 = self._path(w2, r)
        return self._violation(
            "WriteCORead",
            [*p1, *p2[1:]],
            f"{self._chain_text(p1)}, and {self._chain_text(p2)}: the read returned "
            f"{value_text(thaw(self.nodes[w1].value))}, overwritten by a write that causally "
            "precedes the read",
        )

    def _cycle_violation(
        self, pattern: str, cycle: list[int], rel: dict[tuple[int, int], str] | None = None
    ) -> dict[str, Any]:
        closed = [*cycle, cycle[0]]
        why = (
            "a causality cycle: an op causally precedes itself"
            if pattern == "CyclicCO"
            else "no single order of the writes (one arbitration) explains every read"
        )
        witnesses = [
            self.cf_by[(a, b)]
            for a, b in zip(closed, closed[1:], strict=False)
            if (a, b) in self.cf_by
        ]
        return self._violation(
            pattern, [*cycle, *witnesses], f"{self._chain_text(closed, rel)}: {why}"
        )


def _bits(mask: int) -> Iterator[int]:
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _lowest(mask: int) -> int:
    return (mask & -mask).bit_length() - 1


def _peel(n: int, succ: list[list[int]]) -> list[int]:
    """Kahn's algorithm: the nodes in topological order, as far as no cycle stops it."""
    indeg = [0] * n
    for bs in succ:
        for b in bs:
            indeg[b] += 1
    queue = deque(i for i in range(n) if indeg[i] == 0)
    order = []
    while queue:
        u = queue.popleft()
        order.append(u)
        for v in succ[u]:
            indeg[v] -= 1
            if indeg[v] == 0:
                queue.append(v)
    return order


def _topological(n: int, succ: list[list[int]]) -> list[int] | None:
    order = _peel(n, succ)
    return order if len(order) == n else None


def _cycle(n: int, succ: list[list[int]]) -> list[int] | None:
    """A short cycle: BFS back to the start from nodes that peeling sources leaves (those on
    or behind cycles), keeping the shortest of the first few found."""
    removed = set(_peel(n, succ))
    if len(removed) == n:
        return None
    best: list[int] | None = None
    tries = 0
    for start in (i for i in range(n) if i not in removed):
        if best is not None and (tries >= SHORT_CYCLE_TRIES or len(best) == 2):
            break
        parent = {start: -1}
        q = deque([start])
        found = None
        while q and found is None:
            u = q.popleft()
            for v in succ[u]:
                if v == start:
                    found = u
                    break
                if v not in parent and v not in removed:
                    parent[v] = u
                    q.append(v)
        if found is None:
            continue
        tries += 1
        path = [found]
        while parent[path[-1]] != -1:
            path.append(parent[path[-1]])
        path.reverse()
        if best is None or len(path) < len(best):
            best = path
    return best
