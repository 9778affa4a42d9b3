"""A near-linear decision procedure for registers whose written values are unique.

Gibbons & Korach (1997), in the zone form of Anderson et al. (2010): group each written
value's producer (its write, or the CAS that wrote it) with every op that observed it (reads
of it, CASes from it) into a cluster. With ``f`` the earliest return and ``s`` the latest
invoke in a cluster, the zone is *forward* when ``f < s``. A read/write history is
linearizable iff no op observes a value before its producer was invoked, no two forward
zones overlap, and no backward zone ``[s, f]`` lies inside a forward zone. This takes
O(n log n).

A CAS is both an observer (of ``old``) and a producer (of ``new``); the zone conditions
stay necessary, so a violation is still a certain "invalid". When the history has CASes
and no violation, a linearization is built from the zones and replayed through the model;
if that fails the fast path gives up (``None``) and the general search decides.

Every "invalid" comes with a witness: a handful of op ids, closed under "the producer of
each value they observe". A linearization of the whole history restricted to such a set is
a linearization of the set, so if the general search finds the witness non-linearizable
the whole history is too; the caller uses that search for the counterexample.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from checkers.models import R_CAS, R_CAS_INFO, R_READ, R_WRITE
from checkers.wgl import Call

INIT = -1
_INF = float("inf")
_MAX_CHAIN = 200


@dataclass(slots=True)
class FastResult:
    valid: bool | None
    """None: the fast path does not apply or cannot decide; use the general search."""
    witness: list[int] | None = None
    reason: str = ""


@dataclass(slots=True)
class _Zone:
    value: Any
    f: float
    s: float
    f_op: int
    s_op: int


def decide(calls: list[Call], init: Any) -> FastResult:
    """Decide linearizability of one key's register ops, or return FastResult(None)."""
    producer: dict[Any, int] = {}
    for i, c in enumerate(calls):
        code, a, b = c.arg
        if code == R_WRITE or code == R_CAS or code == R_CAS_INFO:
            v = a if code == R_WRITE else b
            try:
                if v in producer or v == init:
                    return FastResult(None, reason="written values are not unique")
            except TypeError:
                return FastResult(None, reason="unhashable value")
            producer[v] = i
        elif code != R_READ:
            return FastResult(None, reason="failed CAS read as a no-op")
    return _Checker(calls, init, producer).run()


class _Checker:
    def __init__(self, calls: list[Call], init: Any, producer: dict[Any, int]) -> None:
        self.calls = calls
        self.init = init
        self.producer = producer
        self.inv = [c.inv for c in calls]
        self.ret = [_INF if c.ret is None else c.ret for c in calls]

    def run(self) -> FastResult:
        kept = self._needed_ops()
        readers: dict[Any, list[int]] = {}
        consumers: dict[Any, list[int]] = {}
        has_cas = False
        for i in kept:
            code, a, _ = self.calls[i].arg
            if code != R_WRITE:
                readers.setdefault(a, []).append(i)
            if code == R_CAS or code == R_CAS_INFO:
                has_cas = True
                consumers.setdefault(a, []).append(i)
        for v, rs in readers.items():
            bad = self._observation_error(v, rs)
            if bad is not None:
                return bad
        for v, cs in consumers.items():
            if len(cs) > 1:
                return self._invalid([cs[0], cs[1]], f"two CASes both swapped out {v!r}")
        zones = self._zones(kept, readers)
        forward = sorted((z for z in zones if z.f < z.s), key=lambda z: z.f)
        for a, b in zip(forward, forward[1:], strict=False):
            if b.f < a.s:
                return self._invalid(
                    [a.f_op, a.s_op, b.f_op, b.s_op],
                    f"values {a.value!r} and {b.value!r} were each observed after both were written",
                )
        starts = [z.f for z in forward]
        for z in zones:
            if z.f < z.s:
                continue
            k = bisect.bisect_left(starts, z.s) - 1
            if k >= 0 and forward[k].s > z.f:
                d = forward[k]
                return self._invalid(
                    [d.f_op, d.s_op, z.f_op, z.s_op],
                    f"{z.value!r} was written and observed entirely while {d.value!r} had to stay current",
                )
        if not has_cas:
            return FastResult(True)
        if self._replay(zones, forward, readers):
            return FastResult(True)
        return FastResult(None, reason="CAS chain not settled by zones")

    def _needed_ops(self) -> list[int]:
        """Drop indeterminate producers whose value nobody observed: they may never have happened."""
        observed: set[Any] = set()
        info_cas_by_new: dict[Any, int] = {}
        for c in self.calls:
            code, a, b = c.arg
            if code == R_READ or code == R_CAS:
                observed.add(a)
            elif code == R_CAS_INFO:
                info_cas_by_new[b] = a
        work = [v for v in observed if v in info_cas_by_new]
        while work:
            old = info_cas_by_new.pop(work.pop(), None)
            if old is not None and old not in observed:
                observed.add(old)
                if old in info_cas_by_new:
                    work.append(old)
        kept = []
        for i, c in enumerate(self.calls):
            code, a, b = c.arg
            if c.ret is None and code != R_READ and (a if code == R_WRITE else b) not in observed:
                continue
            kept.append(i)
        return kept

    def _observation_error(self, v: Any, rs: list[int]) -> FastResult | None:
        if v == self.init:
            return None
        p = self.producer.get(v)
        if p is None:
            return self._invalid([rs[0]], f"{v!r} was observed but never written")
        for r in rs:
            if self.ret[r] < self.inv[p]:
                return self._invalid([p, r], f"{v!r} was observed before it was written")
        return None

    def _zones(self, kept: list[int], readers: dict[Any, list[int]]) -> list[_Zone]:
        zones = []
        init_readers = readers.get(self.init, [])
        if init_readers:
            s_op = max(init_readers, key=self.inv.__getitem__)
            zones.append(_Zone(self.init, -1, self.inv[s_op], INIT, s_op))
        for i in kept:
            code, a, b = self.calls[i].arg
            if code == R_READ:
                continue
            v = a if code == R_WRITE else b
            ops = [i, *readers.get(v, ())]
            f_op = min(ops, key=self.ret.__getitem__)
            s_op = max(ops, key=self.inv.__getitem__)
            zones.append(_Zone(v, self.ret[f_op], self.inv[s_op], f_op, s_op))
        return zones

    def _invalid(self, ops: list[int], reason: str) -> FastResult:
        closed = self._close_under_producers([i for i in ops if i != INIT])
        return FastResult(False, closed, reason)

    def _close_under_producers(self, ops: list[int]) -> list[int] | None:
        out: set[int] = set()
        work = list(ops)
        while work:
            i = work.pop()
            if i in out:
                continue
            out.add(i)
            if len(out) > _MAX_CHAIN:
                return None
            code, a, _ = self.calls[i].arg
            if code != R_WRITE and a != self.init:
                p = self.producer.get(a)
                if p is not None:
                    work.append(p)
        return sorted(out)

    def _replay(
        self, zones: list[_Zone], forward: list[_Zone], readers: dict[Any, list[int]]
    ) -> bool:
        """Place every op at a point inside its interval from the zones, then check that order.

        Observers of a value that a CAS swapped out are moved just before that CAS; ties at
        one point go by CAS-chain depth, so a value's producer precedes its observers.
        """
        spans = [(z.f - 0.5, z.s + 0.25) for z in forward]
        span_starts = [a for a, _ in spans]
        depth = self._chain_depths()
        keys: dict[int, tuple] = {}
        wanted: list[tuple[int, float, Any]] = []
        for z in zones:
            prod = None if z.value == self.init and z.f_op == INIT else self.producer[z.value]
            d = depth.get(z.value, 0)
            if z.f < z.s:
                if prod is not None:
                    keys[prod] = (z.f - 0.5, d, 0, 0)
                wanted += [
                    (r, max(self.inv[r] + 0.25, z.f - 0.25), z.value)
                    for r in readers.get(z.value, [])
                ]
                continue
            t = z.s + 0.1
            k = bisect.bisect_right(span_starts, t) - 1
            if k >= 0 and t <= spans[k][1]:
                t = spans[k][1] + 0.05
            if prod is not None:
                keys[prod] = (t, d, 0, 0)
            wanted += [(r, t, z.value) for r in readers.get(z.value, [])]
        consumer = {self.calls[i].arg[1]: i for i in keys if self.calls[i].arg[0] != R_WRITE}
        for r, point, v in wanted:
            if r in keys:
                continue
            key = (point, depth.get(v, 0), 1, self.inv[r])
            c = consumer.get(v)
            if c is not None and key >= keys[c]:
                key = (keys[c][0], keys[c][1], -1, self.inv[r])
            keys[r] = key
        return self._legal(sorted(keys, key=keys.__getitem__))

    def _chain_depths(self) -> dict[Any, int]:
        """For each value, how many CASes lead back from it to a plain write or init."""
        depth: dict[Any, int] = {}
        for v in self.producer:
            path: list[Any] = []
            on_path: set[Any] = set()
            while v not in depth:
                code, a, _ = self.calls[self.producer[v]].arg
                if code == R_WRITE or a not in self.producer or v in on_path:
                    depth[v] = 1 if code != R_WRITE else 0
                    break
                path.append(v)
                on_path.add(v)
                v = a
            d = depth[v]
            for w in reversed(path):
                d += 1
                depth[w] = d
        return depth

    def _legal(self, order: list[int]) -> bool:
        state = self.init
        max_inv = -1
        for i in order:
            if max_inv >= self.ret[i]:
                return False
            max_inv = max(max_inv, self.inv[i])
            code, a, b = self.calls[i].arg
            if code == R_READ:
                if state != a:
                    return False
            elif code == R_WRITE:
                state = a
            elif state != a:
                return False
            else:
                state = b
        return True
