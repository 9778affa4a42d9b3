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
import itertools
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from splitbrain.checkers.models import R_CAS, R_CAS_NOT_APPLIED, R_READ, R_WRITE
from splitbrain.checkers.register_fastpath import FastResult
from splitbrain.checkers.wgl import Call

_INF = float("inf")
_NO_READ = (_INF, False)
_NOT_APPLIED = "failed CAS read as a no-op"


@dataclass(slots=True)
class _Writers:
    """The writers of one value, by invoke position, with the running maximum of their returns."""

    invs: list[int]
    ops: list[int]
    max_ret: list[float]


def decide(calls: list[Call], init: Any) -> FastResult:
    """Refute or prove linearizability of one key's register ops; FastResult(None) when neither."""
    try:
        index = _Index(calls)
    except TypeError:
        if any(c.arg[0] == R_CAS_NOT_APPLIED for c in calls):
            return FastResult(None, reason=_NOT_APPLIED)
        return FastResult(None, reason="unhashable value")
    if index.not_applied:
        return FastResult(None, reason=_NOT_APPLIED)
    refuted = _refute(calls, init, index)
    if refuted is not None:
        return refuted
    if index.cas:
        return FastResult(None, reason="CAS with repeated values is left to the search")
    return _prove(calls, init, index)


def _written(arg: tuple[int, Any, Any]) -> Any:
    return arg[1] if arg[0] == R_WRITE else arg[2]


def _by_invoke(calls: list[Call]) -> list[int] | range:
    """Op ids in invoke order (``split`` gives them so already)."""
    invs = [c.inv for c in calls]
    if invs == sorted(invs):
        return range(len(calls))
    return sorted(range(len(calls)), key=invs.__getitem__)


class _Index:
    """What the refutation and the sweep look up, gathered in one pass in invoke order."""

    __slots__ = (
        "by_invoke",
        "writers",
        "read_starts",
        "read_rets",
        "later_invs",
        "later_rets",
        "certain",
        "cas",
        "not_applied",
        "observations",
    )

    def __init__(self, calls: list[Call]) -> None:
        self.writers: dict[Hashable, _Writers] = {}
        self.read_starts: dict[Hashable, list[int]] = {}
        """Value -> the invokes of its reads, in order."""
        self.read_rets: dict[Hashable, list[int]] = {}
        """Value -> the returns of the same reads."""
        self.later_invs: list[int] = []
        self.later_rets: list[int] = []
        """Completed plain writes: invokes, in order, and returns."""
        self.certain: list[tuple[int, int, int, Any]] = []
        """Completed writes and CASes: (return, invoke, op, value written), unsorted."""
        self.observations: list[int] = []
        """Reads and CASes that change the value, by op id."""
        self.cas = False
        self.not_applied = False
        """Whether there is a CAS; a failed CAS read as a no-op (then the rest is not indexed)."""
        writers = self.writers
        read_starts = self.read_starts
        read_rets = self.read_rets
        later_inv = self.later_invs.append
        later_ret = self.later_rets.append
        certain = self.certain.append
        observed = self.observations.append
        self.by_invoke = _by_invoke(calls)
        for i in self.by_invoke:
            c = calls[i]
            code, a, b = c.arg
            inv = c.inv
            ret = c.ret
            if code == R_READ:
                observed(i)
                starts = read_starts.get(a)
                if starts is None:
                    read_starts[a] = [inv]
                    read_rets[a] = [ret]  # type: ignore[list-item]
                else:
                    starts.append(inv)
                    read_rets[a].append(ret)  # type: ignore[arg-type]
                continue
            if code == R_WRITE:
                v = a
                if ret is None:
                    ret = _INF
                else:
                    later_inv(inv)
                    later_ret(ret)
                    certain((ret, inv, i, v))
            elif code == R_CAS_NOT_APPLIED:
                self.not_applied = True
                return
            else:
                v = b
                self.cas = True
                if ret is None:
                    ret = _INF
                elif code == R_CAS:
                    certain((ret, inv, i, v))
                    if b != a:
                        observed(i)
            w = writers.get(v)
            if w is None:
                writers[v] = _Writers([inv], [i], [ret])
                continue
            w.invs.append(inv)
            w.ops.append(i)
            max_ret = w.max_ret
            last = max_ret[-1]
            max_ret.append(ret if ret >= last else last)
        if not isinstance(self.by_invoke, range):
            self.observations.sort()


# ---------------------------------------------------------------- refutation


class _Blockers:
    """For a time t: the certain writer invoked last among those returning before t, and the
    best one of a different value, so that "the last blocker of another value" is one lookup.
    Parallel lists, by return: ``best_*`` that writer's op, invoke and value, ``other_*`` the
    other one's op and invoke (None if there is none)."""

    def __init__(self, index: _Index) -> None:
        done = sorted(index.certain)
        self.rets = [d[0] for d in done]
        self.best_op: list[int] = []
        self.best_inv: list[int] = []
        self.best_value: list[Any] = []
        self.other_op: list[int | None] = []
        self.other_inv: list[int | None] = []
        best_op = best_inv = other_op = other_inv = None
        best_v: Any = None
        add = (
            self.best_op.append,
            self.best_inv.append,
            self.best_value.append,
            self.other_op.append,
            self.other_inv.append,
        )
        add_best_op, add_best_inv, add_best_value, add_other_op, add_other_inv = add
        for _, inv, i, v in done:
            if best_inv is None or inv > best_inv:
                if best_inv is not None and best_v != v:
                    other_op, other_inv = best_op, best_inv
                best_op, best_inv, best_v = i, inv, v
            elif best_v != v and (other_inv is None or inv > other_inv):
                other_op, other_inv = i, inv
            add_best_op(best_op)
            add_best_inv(best_inv)
            add_best_value(best_v)
            add_other_op(other_op)
            add_other_inv(other_inv)

    def before(self, t: int, value: Any) -> int | None:
        """The writer of a value other than ``value`` invoked last among those returning before t."""
        k = bisect.bisect_left(self.rets, t) - 1
        if k < 0:
            return None
        if self.best_value[k] != value:
            return self.best_op[k]
        return self.other_op[k]


def _refute(calls: list[Call], init: Any, index: _Index) -> FastResult | None:
    writers = index.writers
    blockers = _Blockers(index)
    rets = blockers.rets
    best_value = blockers.best_value
    best_inv = blockers.best_inv
    other_inv = blockers.other_inv
    bisect_left = bisect.bisect_left
    for r in index.observations:
        c = calls[r]
        v = c.arg[1]
        assert c.ret is not None
        # blockers.before(c.inv, v), inlined: b_inv is that writer's invoke.
        k = bisect_left(rets, c.inv) - 1
        if k < 0:
            b_inv = None
        elif best_value[k] != v:
            b_inv = best_inv[k]
        else:
            b_inv = other_inv[k]
        if b_inv is None and v == init:
            continue
        w = writers.get(v)
        if w is not None:
            k = bisect_left(w.invs, c.ret)
            if k > 0 and (b_inv is None or w.max_ret[k - 1] > b_inv):
                continue
        else:
            k = 0
        b = blockers.before(c.inv, v)
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


def _prove(calls: list[Call], init: Any, index: _Index) -> FastResult:
    """Reads and writes only."""
    order = _Sweep(calls, init, index).run()
    if order is None:
        return FastResult(None, reason="the sweep found no linearization")
    if not is_linearization(calls, init, order):
        return FastResult(None, reason="the sweep's order does not check out")
    return FastResult(True)


def is_linearization(calls: list[Call], init: Any, order: list[int]) -> bool:
    """``order`` lists every completed op once (indeterminate ones at most once), respects
    real time, and takes the register from ``init`` through legal steps only."""
    placed = set(order)
    if len(placed) != len(order) or (order and (min(order) < 0 or max(order) >= len(calls))):
        return False
    if len(placed) < len(calls) and any(
        calls[i].ret is not None for i in set(range(len(calls))).difference(placed)
    ):
        return False
    latest_inv = -_INF
    """The latest invoke of the ops before: an op returning before it would go back in time."""
    state = init
    for i in order:
        c = calls[i]
        ret = c.ret
        if ret is not None and ret < latest_inv:
            return False
        if c.inv > latest_inv:
            latest_inv = c.inv
        code, a, _ = c.arg
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

    def __init__(self, calls: list[Call], init: Any, index: _Index) -> None:
        self.calls = calls
        self.state = init
        self.order: list[int] = []
        self.done = [False] * len(calls)
        self.pending_writes: dict[Any, list[tuple[float, int]]] = {}
        self.pending_reads: dict[Any, list[int]] = {}
        self.open_writes: dict[int, None] = {}
        """Writes invoked and not yet placed, in invoke order."""
        self.by_invoke = index.by_invoke
        self.readers = index.read_starts
        self.reader_rets = index.read_rets
        self.writers = index.writers
        self.horizon: dict[int, float] = {}
        """Write -> the earliest return of a write invoked after it returned (``_overwritten_by``)."""
        self.later_invs = index.later_invs
        self.earliest_ret_from: list[float] = list(
            itertools.accumulate(reversed(index.later_rets), min, initial=_INF)
        )[::-1]

    def run(self) -> list[int] | None:
        """Invokes in order; returns from a heap that holds only the ops not placed at their
        invoke, which is the event order (invokes first at equal times) without the events
        that find their op placed already."""
        calls = self.calls
        done = self.done
        open_writes = self.open_writes
        pending_writes = self.pending_writes
        pending_reads = self.pending_reads
        place = self.order.append
        returns: list[tuple[float, int]] = [(_INF, -1)]
        """A heap, never empty: (inf, -1) stays at the bottom."""
        push = heapq.heappush
        pop = heapq.heappop
        for i in self.by_invoke:
            c = calls[i]
            inv = c.inv
            while returns[0][0] < inv:
                now, r = pop(returns)
                if not done[r] and not self._returned(now, r):
                    return None
            code, v, _ = c.arg
            ret = c.ret
            if code == R_WRITE:
                heap = pending_writes.get(v)
                if heap is None:
                    heap = pending_writes[v] = []
                if ret is None:
                    push(heap, (_INF, i))
                else:
                    push(heap, (ret, i))
                    push(returns, (ret, i))
                open_writes[i] = None
            elif self.state == v:
                done[i] = True
                place(i)
            else:
                waiting = pending_reads.get(v)
                if waiting is None:
                    pending_reads[v] = [i]
                else:
                    waiting.append(i)
                if ret is not None:
                    push(returns, (ret, i))
        while len(returns) > 1:
            now, r = pop(returns)
            if not done[r] and not self._returned(now, r):
                return None
        return self.order

    def _returned(self, now: int, i: int) -> bool:
        """Op i, not placed yet, returns: place it, or say the sweep is stuck."""
        if self.calls[i].arg[0] != R_WRITE:
            return self._returning(now, i)
        if len(self.open_writes) > 1:
            self._flush(now, i)
        self._write(i)
        return True

    def _returning(self, now: int, i: int) -> bool:
        """A read returns that was not placed yet."""
        v = self.calls[i].arg[1]
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
        keep_next, keep_last = self._next_readers(now, keep, self.calls[keep].arg[1], True)
        done = self.done
        for w in others:
            if done[w]:
                continue
            c = self.calls[w]
            v = c.arg[1]
            if c.ret is None and self._first_writer(v) != w:
                continue  # forced only at the end of time, so nothing below places it
            w_next = self._next_readers(now, w, v, False)[0]
            if c.ret is not None and w_next[0] == _INF:
                self._write(w)
                continue
            ret = _INF if c.ret is None else c.ret
            forced = self._forced_by(v, w, ret) if v in self.pending_reads else ret
            if forced < keep_next[0] and _more_urgent(keep_next, w_next):
                self._write(w)
            elif keep_last[1] and forced < keep_last[0] and not w_next[1]:
                self._write(w)

    def _next_readers(
        self, now: int, w: int, v: Any, last: bool
    ) -> tuple[tuple[float, bool], tuple[float, bool]]:
        """When the next read that could still want write w's value starts (inf: none), and
        whether only w can give it that value (no other writer of it is pending, or starts
        before the read returns); with ``last``, the same for the last such read (else
        ``_NO_READ``). ``v`` is w's value."""
        starts = self.readers.get(v)
        if starts is None:
            return _NO_READ, _NO_READ
        k = bisect.bisect_right(starts, now)
        if k == len(starts):
            return _NO_READ, _NO_READ
        horizon = self.horizon.get(w)
        if horizon is None:
            ret = self.calls[w].ret
            horizon = self.horizon[w] = _INF if ret is None else self._overwritten_by(ret)
        if starts[k] >= horizon:
            return _NO_READ, _NO_READ
        writers = self.writers.get(v)
        invs = writers.invs if writers is not None else ()
        j = bisect.bisect_right(invs, now)
        rets = self.reader_rets[v]
        unique = None
        first_alone = j == len(invs) or invs[j] > rets[k]
        if first_alone:
            unique = self._only_pending_writer(v, w)
            first_alone = unique
        first = (starts[k], first_alone)
        if not last:
            return first, _NO_READ
        k = bisect.bisect_left(starts, horizon) - 1
        last_alone = j == len(invs) or invs[j] > rets[k]
        if last_alone:
            last_alone = self._only_pending_writer(v, w) if unique is None else unique
        return first, (starts[k], last_alone)

    def _only_pending_writer(self, v: Any, w: int) -> bool:
        done = self.done
        for _, x in self.pending_writes.get(v, ()):
            if x != w and not done[x]:
                return False
        return True

    def _forced_by(self, v: Any, w: int, ret: float) -> float:
        """When write w will have to be placed: at its return, or when a read of its value
        that waits now returns, if w is the writer it would take."""
        waiting = [self.calls[r].ret for r in self.pending_reads.get(v, ()) if not self.done[r]]
        if waiting and self._first_writer(v) == w:
            return min(ret, *waiting)  # type: ignore[type-var]
        return ret

    def _first_writer(self, v: Any) -> int | None:
        """The pending writer of ``v`` a read of it would take: the one returning first."""
        writers = self.pending_writes[v]
        while writers and self.done[writers[0][1]]:
            heapq.heappop(writers)
        return writers[0][1] if writers else None

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
        done = self.done
        done[w] = True
        self.open_writes.pop(w, None)
        order = self.order
        order.append(w)
        v = self.calls[w].arg[1]
        self.state = v
        waiting = self.pending_reads.pop(v, None)
        if waiting:
            for r in waiting:
                if not done[r]:
                    done[r] = True
                    order.append(r)

    def _place(self, i: int) -> None:
        self.done[i] = True
        self.open_writes.pop(i, None)
        self.order.append(i)


def _more_urgent(a: tuple[float, bool], b: tuple[float, bool]) -> bool:
    """Whether next read ``a`` needs its writer more than ``b``: a read no other writer can
    serve first, then the read that starts first."""
    return (not a[1], a[0]) < (not b[1], b[0])
