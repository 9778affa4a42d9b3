"""A near-linear decision procedure for registers whose written values are unique.

Gibbons & Korach (1997), in the zone form of Anderson et al. (2010), extended to CAS.

Each written value is a *version*; a version's *cluster* is its producer (the write or CAS
that wrote it) and every op that observed it (reads of it, CASes from it). With ``f`` the
earliest return and ``s`` the latest invoke in a cluster, the version must become current
before ``f`` and stay current until after ``s``. For reads and writes alone the history is
linearizable iff no op observes a value before its producer was invoked, no two forward
zones (``f < s``) overlap, and no backward zone ``[s, f]`` lies inside a forward zone.

CAS. With unique values an ok CAS [a, b] makes version b follow version a *immediately*,
so CASes link versions into chains that start at a plain write or at init. A chain is
placed as one compound version: its members become current one after another, member i at
a point after every member j < i was last invoked on (``s_j``) and after its producer was
invoked, and before its own ``f_i``. That is possible iff ``max(s_j for j < i, inv(producer
i)) < f_i`` for every member; then the chain can start anywhere before ``min f`` (after its
first producer's invoke) and needs only to stay until after ``max s``, which is exactly the
shape of a single version, so the zone conditions above decide the chains. A value that two
CASes swapped out, or a cycle of CASes, is a violation on its own.

Indeterminate producers whose value nobody observed are dropped (omitting an unobserved
write or CAS never breaks a linearization); the others certainly took effect and are kept,
with no return. A failed CAS read as "completed, not applied" is not handled here.

Every "invalid" comes with a witness: a handful of op ids whose sub-history is not
linearizable either, and which the caller hands to the general search for a counterexample.
Each observed value's producer is in the witness, except that the first producer of each
chain stretch may be a CAS whose own old value is left out; such CASes are listed in
``relaxed`` and are checked as plain writes. Restricting a linearization of the whole
history to the witness (with those CASes as writes) linearizes the witness, so a witness
that is not linearizable proves the whole history is not.
"""

from __future__ import annotations

import bisect
import operator
from dataclasses import dataclass, field
from typing import Any

import msgspec

from splitbrain.checkers.models import R_CAS, R_CAS_INFO, R_READ, R_WRITE
from splitbrain.checkers.wgl import Call
from splitbrain.harness.base.notation import value_text

INIT = -1
NOT_UNIQUE = "written values are not unique"
_INF = float("inf")
_NEG_INF = float("-inf")
_by_f = operator.attrgetter("f")


@dataclass(slots=True)
class FastResult:
    valid: bool | None
    """None: the fast path does not apply or cannot decide; use the general search."""
    witness: list[int] | None = None
    reason: str = ""
    relaxed: list[int] = field(default_factory=list)
    """Witness CASes to check as plain writes of their new value."""
    culprit: int | None = None
    """An op the zones cannot place, for a counterexample without a witness search."""


class _Zone(msgspec.Struct, gc=False):
    """When a version must be current: from ``f`` (its first finisher) to ``s`` (its last
    starter). One per written value: a msgspec struct, built in C."""

    f: float
    s: float
    f_op: int
    s_op: int


class _Chain(msgspec.Struct, gc=False):
    """Versions linked by CASes, as one compound version; ``*_seg`` index ``values``."""

    values: list[Any]
    f: float
    s: float
    f_op: int
    s_op: int
    f_seg: int
    s_seg: int


def decide(calls: list[Call], init: Any) -> FastResult:
    """Decide linearizability of one key's register ops, or return FastResult(None)."""
    if plainly_valid(calls, init):
        return FastResult(True)
    return decide_fully(calls, init)


def plainly_valid(calls: list[Call], init: Any) -> bool:
    """The zone conditions for reads and unique writes alone, in one pass: True only where
    ``decide_fully`` says valid, False when unsure (a CAS, a repeated or unhashable value,
    any violation), so that every "invalid" and its witness come from ``decide_fully``.

    Unobserved indeterminate writes are kept here: their zone ``[inv, inf]`` is backward and
    lies inside no forward zone, so keeping them changes nothing. The two dicts of zone ends
    get their keys in the same order, so the zones are one ``zip`` of their values.
    """
    first_ret: dict[Any, float] = {}
    last_inv: dict[Any, float] = {}
    produced: dict[Any, int] = {}
    try:
        for c in calls:
            code, v, _ = c.arg
            inv = c.inv
            ret = c.ret
            if code:
                if code != R_WRITE or v in produced:
                    return False
                produced[v] = inv
                if ret is None:
                    ret = _INF
            elif ret is None:
                return False
            f = first_ret.get(v)
            if f is None or ret < f:
                first_ret[v] = ret
            s = last_inv.get(v)
            if s is None or inv > s:
                last_inv[v] = inv
        if init in produced or len(last_inv) != len(produced) + (init in last_inv):
            return False
    except TypeError:
        return False
    for v, inv in produced.items():
        if inv >= first_ret[v]:
            return False
    if init in first_ret:
        first_ret[init] = -1
    zones = list(zip(first_ret.values(), last_inv.values(), strict=True))
    forward = sorted([z for z in zones if z[0] < z[1]])
    end = _NEG_INF
    for f, s in forward:
        if f < end:
            return False
        end = s
    starts = [f for f, _ in forward]
    for f, s in zones:
        if f >= s:
            k = bisect.bisect_left(starts, s) - 1
            if k >= 0 and forward[k][1] > f:
                return False
    return True


def decide_fully(calls: list[Call], init: Any) -> FastResult:
    """``decide`` with CAS chains, and with the witness of an "invalid"."""
    producer: dict[Any, int] = {}
    observed: set[Any] = set()
    """Values read, or swapped out by an ok CAS."""
    info_cas_by_new: dict[Any, Any] = {}
    for i, c in enumerate(calls):
        code, a, b = c.arg
        if code == R_READ:
            observed.add(a)
        elif code == R_WRITE or code == R_CAS or code == R_CAS_INFO:
            v = a if code == R_WRITE else b
            try:
                if v in producer or v == init:
                    return FastResult(None, reason=NOT_UNIQUE)
            except TypeError:
                return FastResult(None, reason="unhashable value")
            producer[v] = i
            if code == R_CAS:
                observed.add(a)
            elif code == R_CAS_INFO:
                info_cas_by_new[b] = a
        else:
            return FastResult(None, reason="failed CAS read as a no-op")
    return _Checker(calls, init, producer).run(observed, info_cas_by_new)


def witness_calls(calls: list[Call], fr: FastResult) -> list[Call]:
    """The witness sub-history of an "invalid" result, relaxed CASes turned into writes."""
    assert fr.witness is not None
    relaxed = set(fr.relaxed)
    out = []
    for i in fr.witness:
        c = calls[i]
        out.append(Call(c.inv, c.ret, (R_WRITE, c.arg[2], None)) if i in relaxed else c)
    return out


class _Checker:
    def __init__(self, calls: list[Call], init: Any, producer: dict[Any, int]) -> None:
        self.calls = calls
        self.init = init
        self.producer = producer
        self.inv = [c.inv for c in calls]
        self.ret = [_INF if c.ret is None else c.ret for c in calls]

    def run(self, observed: set[Any], info_cas_by_new: dict[Any, Any]) -> FastResult:
        readers, consumers = self._observers(self._needed(observed, info_cas_by_new))
        init, producer, inv, ret = self.init, self.producer, self.inv, self.ret
        for v, rs in readers.items():
            # _observation_error's test inlined; the method itself words the error.
            if v == init:
                continue
            p = producer.get(v)
            if p is None:
                return self._observation_error(v, rs)  # type: ignore[return-value]
            written = inv[p]
            for r in rs:
                if ret[r] < written:
                    return self._observation_error(v, rs)  # type: ignore[return-value]
        for v, cs in consumers.items():
            if len(cs) > 1:
                p = self.producer.get(v)
                prod = [] if p is None else [p]
                return self._invalid(
                    [cs[0], cs[1], *prod],
                    prod,
                    cs[1],
                    f"two CASes both swapped out {value_text(v)}",
                )
        zones = self._zones(readers)
        chains = self._chains(zones, consumers)
        if isinstance(chains, FastResult):
            return chains
        compound: list[_Chain] = []
        for values in chains:
            if len(values) == 1:
                # _compound of one version, inlined: its zone, once its producer was invoked.
                z = zones[values[0]]
                p = producer.get(values[0])
                if p is None or inv[p] < z.f:
                    compound.append(_Chain(values, z.f, z.s, z.f_op, z.s_op, 0, 0))
                    continue
            c = self._compound(values, zones)
            if isinstance(c, FastResult):
                return c
            compound.append(c)
        return self._zone_conflict(compound) or FastResult(True)

    def _needed(self, observed: set[Any], info_cas_by_new: dict[Any, Any]) -> set[Any]:
        """The values whose producers are kept: an indeterminate producer whose value nobody
        observed is dropped (it may never have happened). ``observed`` grows by the old
        values of indeterminate CASes whose new value is observed."""
        work = [v for v in observed if v in info_cas_by_new]
        while work:
            old = info_cas_by_new.pop(work.pop())
            if old not in observed:
                observed.add(old)
                if old in info_cas_by_new:
                    work.append(old)
        return observed

    def _observers(self, observed: set[Any]) -> tuple[dict[Any, list[int]], dict[Any, list[int]]]:
        """The ops kept; value -> ops that observed it (reads, CASes from it); value -> CASes
        that swapped it out."""
        readers: dict[Any, list[int]] = {}
        consumers: dict[Any, list[int]] = {}
        kept: list[int] = []
        keep = kept.append
        for i, c in enumerate(self.calls):
            code, a, b = c.arg
            if code != R_READ:
                if c.ret is None and (a if code == R_WRITE else b) not in observed:
                    continue
                if code == R_WRITE:
                    keep(i)
                    continue
                cs = consumers.get(a)
                if cs is None:
                    consumers[a] = [i]
                else:
                    cs.append(i)
            keep(i)
            rs = readers.get(a)
            if rs is None:
                readers[a] = [i]
            else:
                rs.append(i)
        self.kept = kept
        self.readers = readers
        return readers, consumers

    def _observation_error(self, v: Any, rs: list[int]) -> FastResult | None:
        if v == self.init:
            return None
        p = self.producer.get(v)
        if p is None:
            return self._invalid(
                [rs[0]], [], rs[0], f"{value_text(v)} was observed but never written"
            )
        for r in rs:
            if self.ret[r] < self.inv[p]:
                return self._invalid(
                    [p, r], [p], r, f"{value_text(v)} was observed before it was written"
                )
        return None

    def _zones(self, readers: dict[Any, list[int]]) -> dict[Any, _Zone]:
        """The zone of every version that must exist: init if observed, and every kept producer."""
        zones: dict[Any, _Zone] = {}
        init_readers = readers.get(self.init, [])
        if init_readers:
            s_op = max(init_readers, key=self.inv.__getitem__)
            zones[self.init] = _Zone(-1, self.inv[s_op], INIT, s_op)
        calls, inv, ret = self.calls, self.inv, self.ret
        for i in self.kept:
            code, a, b = calls[i].arg
            if code == R_READ:
                continue
            v = a if code == R_WRITE else b
            rs = readers.get(v)
            if rs is None:
                zones[v] = _Zone(ret[i], inv[i], i, i)
                continue
            ops = [i, *rs]
            f_op = min(ops, key=ret.__getitem__)
            s_op = max(ops, key=inv.__getitem__)
            zones[v] = _Zone(ret[f_op], inv[s_op], f_op, s_op)
        return zones

    def _chains(
        self, zones: dict[Any, _Zone], consumers: dict[Any, list[int]]
    ) -> list[list[Any]] | FastResult:
        """Split the versions into CAS chains, each starting at init or a plain write."""
        if not consumers:
            return [[v] for v in zones]
        nxt = {v: self.calls[cs[0]].arg[2] for v, cs in consumers.items()}
        chains = []
        seen = 0
        for v in zones:
            p = self.producer.get(v)
            if p is not None and self.calls[p].arg[0] != R_WRITE:
                continue
            chain = [v]
            while chain[-1] in nxt:
                chain.append(nxt[chain[-1]])
            seen += len(chain)
            chains.append(chain)
        if seen == len(zones):
            return chains
        return self._cycle(zones, nxt, {v for c in chains for v in c})

    def _cycle(self, zones: dict[Any, _Zone], nxt: dict[Any, Any], placed: set[Any]) -> FastResult:
        v = next(v for v in zones if v not in placed)
        on_cycle: list[Any] = []
        seen: set[Any] = set()
        while v not in seen:
            if v not in nxt:
                return FastResult(None, reason=f"no chain of CASes leads to {value_text(v)}")
            seen.add(v)
            on_cycle.append(v)
            v = nxt[v]
        ops = [self.producer[w] for w in on_cycle[on_cycle.index(v) :]]
        return self._invalid(
            ops, [], ops[0], f"CASes swap {value_text(v)} in a cycle no write starts"
        )

    def _compound(self, values: list[Any], zones: dict[Any, _Zone]) -> _Chain | FastResult:
        """Check that a chain's members can become current in order; return its compound zone."""
        first = zones[values[0]]
        out = _Chain(values, first.f, first.s, first.f_op, first.s_op, 0, 0)
        after, after_op, after_seg = _NEG_INF, INIT, 0
        for k, v in enumerate(values):
            z = zones[v]
            p = self.producer.get(v)
            if p is not None and self.inv[p] > after:
                after, after_op, after_seg = self.inv[p], p, k
            if after >= z.f:
                return self._invalid_span(
                    values,
                    after_seg,
                    k,
                    [after_op, z.f_op],
                    after_op,
                    f"CASes put {value_text(v)} after {value_text(values[after_seg])}, but {value_text(v)} was observed "
                    f"before {value_text(values[after_seg])} was last needed",
                )
            if z.f < out.f:
                out.f, out.f_op, out.f_seg = z.f, z.f_op, k
            if z.s > out.s:
                out.s, out.s_op, out.s_seg = z.s, z.s_op, k
            if z.s > after:
                after, after_op, after_seg = z.s, z.s_op, k
        return out

    def _zone_conflict(self, chains: list[_Chain]) -> FastResult | None:
        forward = sorted([c for c in chains if c.f < c.s], key=_by_f)
        for a, b in zip(forward, forward[1:], strict=False):
            if b.f < a.s:
                return self._invalid_zones(
                    a,
                    b,
                    a.s_op,
                    f"{_name(a)} and {_name(b)} were each observed after both were written",
                )
        starts = [c.f for c in forward]
        for c in chains:
            if c.f < c.s:
                continue
            k = bisect.bisect_left(starts, c.s) - 1
            if k >= 0 and forward[k].s > c.f:
                d = forward[k]
                return self._invalid_zones(
                    d,
                    c,
                    c.f_op,
                    f"{_name(c)} was written and observed entirely while {_name(d)} had to stay current",
                )
        return None

    def _invalid_zones(self, a: _Chain, b: _Chain, culprit: int, reason: str) -> FastResult:
        ops: list[int] = []
        relaxed: list[int] = []
        for c in (a, b):
            lo, hi = sorted((c.f_seg, c.s_seg))
            span, rel = self._span(c.values, lo, hi)
            ops += [c.f_op, c.s_op, *span]
            relaxed += rel
        return self._invalid(ops, relaxed, culprit, reason)

    def _invalid_span(
        self, values: list[Any], lo: int, hi: int, ops: list[int], culprit: int, reason: str
    ) -> FastResult:
        span, relaxed = self._span(values, lo, hi)
        return self._invalid([*ops, *span], relaxed, culprit, reason)

    def _span(self, values: list[Any], lo: int, hi: int) -> tuple[list[int], list[int]]:
        """Producers of chain members lo..hi; the first one, if a CAS, is to be checked as a write."""
        prods = [self.producer[v] for v in values[lo : hi + 1] if v in self.producer]
        return prods, prods[:1] if lo > 0 else []

    def _invalid(self, ops: list[int], relaxed: list[int], culprit: int, reason: str) -> FastResult:
        witness = self._forced({i for i in ops if i != INIT})
        cas = sorted({i for i in relaxed if self.calls[i].arg[0] != R_WRITE})
        return FastResult(False, sorted(witness), reason, cas, culprit)

    def _forced(self, ops: set[int]) -> set[int]:
        """Add, for each indeterminate producer, ops that show it took effect (else it may be left out)."""
        work = [i for i in ops if self.calls[i].ret is None]
        while work:
            i = work.pop()
            code, a, b = self.calls[i].arg
            observers = self.readers.get(a if code == R_WRITE else b, [])
            if any(r in ops and self.calls[r].ret is not None for r in observers):
                continue
            r = min(observers, key=lambda r: self.calls[r].ret is None)
            if r not in ops:
                ops.add(r)
                if self.calls[r].ret is None:
                    work.append(r)
        return ops


def _name(c: _Chain) -> str:
    if len(c.values) == 1:
        return value_text(c.values[0])
    return f"the CAS chain {value_text(c.values[0])}..{value_text(c.values[-1])}"
