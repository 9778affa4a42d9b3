"""Registers whose written values repeat: refute by single observations, prove by a checked sweep.

Deciding linearizability of such registers is NP-complete in general (Gibbons & Korach), but
long, highly concurrent histories are usually settled by two sound, near-linear steps; what
neither settles goes to the general search.

Refutation. An observation of ``v`` (a read of ``v``, or an ok CAS from ``v``) needs the last
state change before it to be a writer of ``v`` invoked before the observation returned (or
no state change at all, when ``v`` is init). Let ``B`` be the completed, certain writer of
another value that was invoked last among those returning before the observation began.
``B`` precedes the observation in every linearization; if every writer of ``v`` invoked
before the observation returned also returned before ``B`` was invoked, each of them precedes
``B`` too, so none of them can be the last state change: the history is not linearizable.
The witness (the observation, ``B`` and every such writer of ``v``, CASes among them checked
as plain writes) is a sub-history that restricting any linearization would linearize, so the
general search can confirm it and name the counterexample.

Proof. A one-pass sweep builds a linearization just in time (see ``_Sweep``) and
``is_linearization`` checks it op by op against real time and the register's steps, so a
"valid" rests on an order that was checked, never on the heuristic that found it. When the
sweep gets stuck the history goes to the general search, which may say "unknown".

(Relabelling each repeated value with unique labels and deciding the relabelled history
with the zone algorithm, the issue's first direction, was tried and dropped: choosing the
labels by "nearest plausible writer" and repairing them around the zone conflicts needed
many zone runs of 0.2-0.4 s each and still failed on valid 20,000-op histories.)
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from splitbrain.checkers.models import R_CAS, R_CAS_NOT_APPLIED, R_READ, R_WRITE
from splitbrain.checkers.register_fastpath import FastResult
from splitbrain.checkers.wgl import Call

_INF = float("inf")


@dataclass(slots=True)
class _Writers:
    """The writers of one value, by invoke position, with the running maximum of their returns."""

    invs: list[int]
    ops: list[int]
    max_ret: list[float]


def decide(calls: list[Call], init: Any) -> FastResult:
    """Refute or prove linearizability of one key's register ops; FastResult(None) when neither."""
    for c in calls:
        if c.arg[0] == R_CAS_NOT_APPLIED:
            return FastResult(None, reason="failed CAS read as a no-op")
    try:
        writers = _writers_by_value(calls)
    except TypeError:
        return FastResult(None, reason="unhashable value")
    refuted = _refute(calls, init, writers)
    if refuted is not None:
        return refuted
    return _prove(calls, init)


def _written(arg: tuple[int, Any, Any]) -> Any:
    return arg[1] if arg[0] == R_WRITE else arg[2]


def _writers_by_value(calls: list[Call]) -> dict[Hashable, _Writers]:
    out: dict[Hashable, _Writers] = {}
    for i in sorted(range(len(calls)), key=lambda i: calls[i].inv):
        c = calls[i]
        if c.arg[0] == R_READ:
            continue
        w = out.get(_written(c.arg))
        if w is None:
            w = out[_written(c.arg)] = _Writers([], [], [])
        ret = _INF if c.ret is None else c.ret
        w.invs.append(c.inv)
        w.ops.append(i)
        w.max_ret.append(max(ret, w.max_ret[-1]) if w.max_ret else ret)
    return out


def _observations(calls: list[Call]) -> list[int]:
    return [i for i, c in enumerate(calls) if c.arg[0] == R_READ or c.arg[0] == R_CAS]


# ---------------------------------------------------------------- refutation


class _Blockers:
    """For a time t: the certain writer invoked last among those returning before t, and the
    best one of a different value, so that "the last blocker of another value" is one lookup."""

    def __init__(self, calls: list[Call]) -> None:
        done = sorted(
            (c.ret, c.inv, i)
            for i, c in enumerate(calls)
            if c.ret is not None and (c.arg[0] == R_WRITE or c.arg[0] == R_CAS)
        )
        self.rets = [r for r, _, _ in done]
        self.best: list[tuple[int, int]] = []
        self.other: list[tuple[int, int] | None] = []
        best: tuple[int, int] | None = None
        other: tuple[int, int] | None = None
        for _, inv, i in done:
            v = _written(calls[i].arg)
            if best is None or inv > best[0]:
                if best is not None and _written(calls[best[1]].arg) != v:
                    other = best
                best = (inv, i)
            elif _written(calls[best[1]].arg) != v and (other is None or inv > other[0]):
                other = (inv, i)
            self.best.append(best)
            self.other.append(other)
        self.calls = calls

    def before(self, t: int, value: Any) -> int | None:
        """The writer of a value other than ``value`` invoked last among those returning before t."""
        k = bisect.bisect_left(self.rets, t) - 1
        if k < 0:
            return None
        inv, i = self.best[k]
        if _written(self.calls[i].arg) != value:
            return i
        o = self.other[k]
        return None if o is None else o[1]


def _refute(calls: list[Call], init: Any, writers: dict[Hashable, _Writers]) -> FastResult | None:
    blockers = _Blockers(calls)
    for r in _observations(calls):
        c = calls[r]
        v = c.arg[1]
        if c.arg[0] == R_CAS and c.arg[2] == v:
            continue
        assert c.ret is not None
        b = blockers.before(c.inv, v)
        if b is None and v == init:
            continue
        w = writers.get(v)
        k = 0 if w is None else bisect.bisect_left(w.invs, c.ret)
        if k > 0 and (b is None or w.max_ret[k - 1] > calls[b].inv):  # type: ignore[union-attr]
            continue
        return _refutation(calls, r, b, [] if w is None else w.ops[:k], v)
    return None


def _refutation(calls: list[Call], r: int, b: int | None, prods: list[int], v: Any) -> FastResult:
    ids = sorted({r, *prods, *([] if b is None else [b])})
    relaxed = [i for i in ids if i != r and calls[i].arg[0] != R_WRITE]
    if b is None:
        reason = f"{v!r} was observed but never written before"
    else:
        reason = f"{v!r} was observed after {_written(calls[b].arg)!r} overwrote every write of it"
    return FastResult(False, ids, reason, relaxed, r)


# ---------------------------------------------------------------- proof by construction


def _prove(calls: list[Call], init: Any) -> FastResult:
    if any(c.arg[0] not in (R_READ, R_WRITE) for c in calls):
        return FastResult(None, reason="CAS with repeated values is left to the search")
    order = _Sweep(calls, init).run()
    if order is None:
        return FastResult(None, reason="the sweep found no linearization")
    if not is_linearization(calls, init, order):
        return FastResult(None, reason="the sweep's order does not check out")
    return FastResult(True)


def is_linearization(calls: list[Call], init: Any, order: list[int]) -> bool:
    """``order`` lists every completed op once (indeterminate ones at most once), respects
    real time, and takes the register from ``init`` through legal steps only."""
    seen = [False] * len(calls)
    for i in order:
        if seen[i]:
            return False
        seen[i] = True
    if any(not s and c.ret is not None for s, c in zip(seen, calls, strict=True)):
        return False
    earliest_ret = _INF
    for i in reversed(order):
        c = calls[i]
        if c.inv > earliest_ret:
            return False
        if c.ret is not None and c.ret < earliest_ret:
            earliest_ret = c.ret
    state = init
    for i in order:
        code, a, _ = calls[i].arg
        if code == R_WRITE:
            state = a
        elif state != a:
            return False
    return True


class _Sweep:
    """Builds a linearization of reads and writes in one pass over the events, just in time.

    A read is placed as soon as the register holds its value. A write is placed only when
    it must be: at its return, or when a read about to return needs its value (the pending
    writer of that value returning first is used, the others stay available). Before a
    write is placed, pending writes whose value no read could still want are placed first,
    so their values are overwritten at once rather than later, when they would hide a value
    someone needs: a read could want write w when it starts before the earliest return of a
    write that certainly follows w. It is a heuristic: when it gets stuck it gives up.
    """

    def __init__(self, calls: list[Call], init: Any) -> None:
        self.calls = calls
        self.state = init
        self.order: list[int] = []
        self.done = [False] * len(calls)
        self.pending_writes: dict[Any, list[tuple[float, int]]] = {}
        self.pending_reads: dict[Any, list[int]] = {}
        self.open_writes: dict[int, None] = {}
        """Writes invoked and not yet placed, in invoke order."""
        self.readers: dict[Any, list[int]] = {}
        self.reader_rets: dict[Any, list[int]] = {}
        self.writer_invs: dict[Any, list[int]] = {}
        for c in sorted(calls, key=lambda c: c.inv):
            if c.arg[0] == R_READ:
                self.readers.setdefault(c.arg[1], []).append(c.inv)
                self.reader_rets.setdefault(c.arg[1], []).append(c.ret)  # type: ignore[arg-type]
            else:
                self.writer_invs.setdefault(c.arg[1], []).append(c.inv)
        later = sorted((c.inv, c.ret) for c in calls if c.arg[0] == R_WRITE and c.ret is not None)
        self.later_invs = [inv for inv, _ in later]
        self.earliest_ret_from: list[float] = [_INF] * (len(later) + 1)
        for k in range(len(later) - 1, -1, -1):
            self.earliest_ret_from[k] = min(later[k][1], self.earliest_ret_from[k + 1])

    def run(self) -> list[int] | None:
        events = []
        for i, c in enumerate(self.calls):
            events.append((c.inv, 0, i))
            if c.ret is not None:
                events.append((c.ret, 1, i))
        events.sort()
        for now, kind, i in events:
            if kind == 0:
                self._invoked(i)
            elif not self.done[i] and not self._returning(now, i):
                return None
        return self.order

    def _invoked(self, i: int) -> None:
        c = self.calls[i]
        code, v, _ = c.arg
        if code == R_WRITE:
            ret = _INF if c.ret is None else c.ret
            heapq.heappush(self.pending_writes.setdefault(v, []), (ret, i))
            self.open_writes[i] = None
        elif self.state == v:
            self._place(i)
        else:
            self.pending_reads.setdefault(v, []).append(i)

    def _returning(self, now: int, i: int) -> bool:
        code, v, _ = self.calls[i].arg
        if code == R_WRITE:
            self._flush(now, i)
            self._write(i)
            return True
        writers = self.pending_writes.get(v)
        while writers and self.done[writers[0][1]]:
            heapq.heappop(writers)
        if not writers:
            return self._move_last_writer(i)
        w = writers[0][1]
        self._flush(now, w)
        if not self.done[w]:
            self._write(w)
        return self.done[i]

    def _flush(self, now: int, keep: int) -> None:
        """Place, before ``keep``, the pending writes no read could still want, and those that
        would otherwise be placed after ``keep`` but before the next read of its value, when
        that read needs ``keep`` more than their own next read needs them, or before a later
        read that only ``keep`` can serve, when another writer could serve their next read."""
        others = [w for w in self.open_writes if w != keep]
        if not others:
            return
        keep_next = self._next_reader(now, keep)
        keep_last = self._next_reader(now, keep, last=True)
        for w in others:
            if self.done[w]:
                continue
            c = self.calls[w]
            v = c.arg[1]
            ret = _INF if c.ret is None else c.ret
            w_next = self._next_reader(now, w)
            if c.ret is not None and w_next[0] == _INF:
                self._write(w)
                continue
            forced = self._forced_by(v, w, ret)
            if forced < keep_next[0] and _more_urgent(keep_next, w_next):
                self._write(w)
            elif keep_last[1] and forced < keep_last[0] and not w_next[1]:
                self._write(w)

    def _next_reader(self, now: int, w: int, *, last: bool = False) -> tuple[float, bool]:
        """When the next (with ``last``: the last) read that could still want write w's value
        starts (inf: none), and whether only w can give it that value (no other writer of it
        is pending, or starts before the read returns)."""
        c = self.calls[w]
        v = c.arg[1]
        starts = self.readers.get(v, ())
        k = bisect.bisect_right(starts, now)
        if k == len(starts):
            return (_INF, False)
        horizon = _INF if c.ret is None else self._overwritten_by(c.ret)
        if starts[k] >= horizon:
            return (_INF, False)
        if last:
            k = bisect.bisect_left(starts, horizon) - 1
        invs = self.writer_invs.get(v, ())
        j = bisect.bisect_right(invs, now)
        alone = (j == len(invs) or invs[j] > self.reader_rets[v][k]) and not any(
            x != w and not self.done[x] for _, x in self.pending_writes.get(v, ())
        )
        return (starts[k], alone)

    def _forced_by(self, v: Any, w: int, ret: float) -> float:
        """When write w will have to be placed: at its return, or when a read of its value
        that waits now returns, if w is the writer it would take."""
        writers = self.pending_writes[v]
        while writers and self.done[writers[0][1]]:
            heapq.heappop(writers)
        waiting = [self.calls[r].ret for r in self.pending_reads.get(v, ()) if not self.done[r]]
        if waiting and writers and writers[0][1] == w:
            return min(ret, *waiting)  # type: ignore[type-var]
        return ret

    def _move_last_writer(self, r: int) -> bool:
        """Read r returns with no writer of its value left: move the last placed writer of
        that value (and the reads placed with it) to the end of the order, if it was still
        running when r began and no op placed after it began after it returned."""
        calls = self.calls
        v = calls[r].arg[1]
        order = self.order
        p = len(order) - 1
        while p >= 0 and not (calls[order[p]].arg == (R_WRITE, v, None)):
            p -= 1
        if p < 0:
            return False
        w = order[p]
        w_ret = _INF if calls[w].ret is None else calls[w].ret
        if w_ret < calls[r].inv or any(calls[x].inv > w_ret for x in order[p + 1 :]):
            return False
        moved = [w]
        k = p + 1
        while k < len(order) and calls[order[k]].arg[0] == R_READ:
            moved.append(order[k])
            k += 1
        if any(calls[x].ret < calls[r].ret for x in moved[1:]):  # type: ignore[operator]
            return False
        del order[p:k]
        order += moved
        self.state = v
        for x in self.pending_reads.pop(v, ()):
            if not self.done[x]:
                self._place(x)
        return self.done[r]

    def _overwritten_by(self, ret: float) -> float:
        """The earliest return of a write invoked after ``ret``."""
        return self.earliest_ret_from[bisect.bisect_right(self.later_invs, ret)]

    def _write(self, w: int) -> None:
        self._place(w)
        v = self.calls[w].arg[1]
        self.state = v
        for r in self.pending_reads.pop(v, ()):
            if not self.done[r]:
                self._place(r)

    def _place(self, i: int) -> None:
        self.done[i] = True
        self.open_writes.pop(i, None)
        self.order.append(i)


def _more_urgent(a: tuple[float, bool], b: tuple[float, bool]) -> bool:
    """Whether next read ``a`` needs its writer more than ``b``: a read no other writer can
    serve first, then the read that starts first."""
    return (not a[1], a[0]) < (not b[1], b[0])
