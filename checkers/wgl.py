"""Wing & Gong backtracking search with Lowe's memoisation, as in porcupine and Knossos' wgl.

The history of one key is a doubly linked list of call and return events in real-time
order (parallel int arrays, node 0 the head, node ``2n+1`` the tail). The search linearizes
the first call it can, lifting the call and its return out of the list; reaching a return
means its call could not be placed before it, so the search backtracks. The cache holds
every (set of linearized ops, model state) configuration already explored. The set is kept
as small as the ops open at once, not as the history (porcupine's bitset of every op makes
a long history's memo grow with its square): the determinate ops as a bitset above the lowest
one not yet linearized, and the indeterminate ones by their symmetry classes below (one
whose arg cannot be hashed has no class and counts among the determinate ones).

Indeterminate ops return at the end of time. Indeterminate ops with the same ``arg`` are
interchangeable once both are invoked, so only the earliest unlinearized one of each such
class is tried (a symmetry cut that keeps crashed clients from multiplying the search).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import msgspec

from splitbrain.checkers.models import ILLEGAL


class SearchAborted(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Call(msgspec.Struct, gc=False):
    """One op of one key, ready for the search. ``ret`` is None for an indeterminate op.
    (A msgspec struct: built in C, a third of a dataclass's time, once per op checked.)"""

    inv: int
    ret: int | None
    arg: Any


@dataclass(slots=True)
class SearchResult:
    valid: bool
    linearized: list[int]
    """Op ids (indexes into the calls) of the longest linearization found (full order when valid)."""
    failed_op: int | None = None
    state: Any = None
    """Model state after ``linearized``, before ``failed_op``."""


_ENTRY_BYTES = 160
_CHECK_EVERY = 2048


def search(
    calls: list[Call],
    init: Any,
    step: Callable[[Any, Any], Any],
    *,
    readonly: Callable[[Any], bool] | None = None,
    deadline: float | None = None,
    max_bytes: int | None = None,
    remember: bool = False,
) -> SearchResult:
    """Decide whether ``calls`` are linearizable; raises SearchAborted on timeout or memory.
    ``remember``: the model's states repeat (a register's), so each step's result is kept."""
    it = search_steps(
        calls,
        init,
        step,
        readonly=readonly,
        deadline=deadline,
        max_bytes=max_bytes,
        remember=remember,
    )
    while True:
        try:
            next(it)
        except StopIteration as stop:
            return stop.value


def search_steps(
    calls: list[Call],
    init: Any,
    step: Callable[[Any, Any], Any],
    *,
    readonly: Callable[[Any], bool] | None = None,
    deadline: float | None = None,
    max_bytes: int | None = None,
    remember: bool = False,
) -> Generator[None, None, SearchResult]:
    """The search as a generator that yields every few thousand steps, so keys can take turns.

    A read-only op that is legal now is linearized now without trying alternatives: it
    leaves the state alone, so any linearization that places it later can place it here.
    """
    n = len(calls)
    if n == 0:
        return SearchResult(True, [], None, init)
    tail = 2 * n + 1
    events = []
    end = 1 << 62
    for i, c in enumerate(calls):
        events.append((c.inv, 0, i))
        events.append((end + i if c.ret is None else c.ret, 1, i))
    events.sort()
    size = 2 * n + 2
    nxt = list(range(1, size + 1))
    prv = list(range(-1, size - 1))
    op_of = [0] * size
    is_call = [False] * size
    match = [0] * size
    call_node = [0] * n
    for k, (_, kind, i) in enumerate(events, start=1):
        op_of[k] = i
        if kind == 0:
            is_call[k] = True
            call_node[i] = k
        else:
            match[call_node[i]] = k
    args = [c.arg for c in calls]
    ro = [readonly(a) for a in args] if readonly is not None else [False] * n
    cls, members = _symmetry_classes(calls)
    cpos = [0] * len(members)
    weight = [0] * len(members)
    """The linearized indeterminate ops of class c are its first cpos[c] members: they count
    as cpos[c] * weight[c] in ``icode`` (mixed radix, one digit per class)."""
    place = 1
    for k, m in enumerate(members):
        weight[k] = place
        place *= len(m)
    rank = [0] * n
    """The other ops are numbered in invoke order; ``rel`` has bit k for op ``floor + k``,
    where ``floor`` is the lowest not yet linearized: the memo's set of linearized ops stays
    as small as the ops open at once, not as the history."""
    ranked = 0
    for i in sorted(range(n), key=lambda i: calls[i].inv):
        if cls[i] < 0:
            rank[i] = ranked
            ranked += 1

    cache: set[tuple[int, int, int, Any]] = set()
    state = init
    rel = floor = icode = 0
    stack: tuple | None = None
    depth = 0
    best_depth = -1
    best: tuple[Any, int, Any] = (None, op_of[nxt[0]], init)
    countdown = _CHECK_EVERY
    entry = nxt[0]
    moves: list[dict[Any, Any]] = [{} for _ in range(n)] if remember else []
    """With ``remember``, per call, the state it leads to from each state it was tried in (a
    dict lookup costs a fifth of a call of ``step``); ``remembered`` of them, each half a
    cache entry's size. For models whose states repeat: porcupine's appending kv, whose
    states never do, ran twice as slowly with it."""
    remembered = 0
    while True:
        countdown -= 1
        if not countdown:
            countdown = _CHECK_EVERY
            if deadline is not None and time.monotonic() > deadline:
                raise SearchAborted("timeout")
            if max_bytes:
                entry_bytes = _ENTRY_BYTES + (rel.bit_length() + place.bit_length()) // 8
                if len(cache) + remembered // 2 > max(max_bytes // entry_bytes, 1):
                    raise SearchAborted("memory")
            yield
        if is_call[entry]:
            i = op_of[entry]
            c = cls[i]
            if c >= 0 and members[c][cpos[c]] != i:
                entry = nxt[entry]
                continue
            if remember:
                move = moves[i]
                try:
                    new_state = move[state]
                except KeyError:
                    new_state = move[state] = step(state, args[i])
                    remembered += 1
            else:
                new_state = step(state, args[i])
            if new_state is ILLEGAL:
                entry = nxt[entry]
                continue
            if c >= 0:
                new_rel, new_floor, new_icode = rel, floor, icode + weight[c]
            else:
                d = rank[i] - floor
                new_rel, new_floor, new_icode = rel | (1 << d), floor, icode
                if not d:
                    ones = (~new_rel & (new_rel + 1)).bit_length() - 1
                    new_rel >>= ones
                    new_floor += ones
            key = (new_rel, new_floor, new_icode, new_state)
            if key not in cache:
                cache.add(key)
                stack = (entry, state, rel, floor, icode, stack)
                depth += 1
                state = new_state
                rel, floor, icode = new_rel, new_floor, new_icode
                if c >= 0:
                    cpos[c] += 1
                r = match[entry]
                p, q = prv[entry], nxt[entry]
                nxt[p] = q
                prv[q] = p
                p, q = prv[r], nxt[r]
                nxt[p] = q
                prv[q] = p
                entry = nxt[0]
                if entry == tail:
                    return SearchResult(True, _unwind(stack, op_of), None, state)
                continue
            if not ro[i]:
                entry = nxt[entry]
                continue
        elif depth > best_depth:
            best_depth = depth
            best = (stack, op_of[entry], state)
        # backtrack: undo the last choice, and keep undoing past read-only ops
        while True:
            if stack is None:
                chain, failed, st = best
                return SearchResult(False, _unwind(chain, op_of), failed, st)
            entry, state, rel, floor, icode, stack = stack
            depth -= 1
            i = op_of[entry]
            c = cls[i]
            if c >= 0:
                cpos[c] -= 1
            r = match[entry]
            nxt[prv[r]] = r
            prv[nxt[r]] = r
            nxt[prv[entry]] = entry
            prv[nxt[entry]] = entry
            if not ro[i]:
                break
        entry = nxt[entry]


def _unwind(stack: tuple | None, op_of: list[int]) -> list[int]:
    out = []
    while stack is not None:
        out.append(op_of[stack[0]])
        stack = stack[-1]
    out.reverse()
    return out


def _symmetry_classes(calls: list[Call]) -> tuple[list[int], list[list[int]]]:
    """Group indeterminate ops by arg; members of a class in invoke order."""
    cls = [-1] * len(calls)
    index: dict[Any, int] = {}
    members: list[list[int]] = []
    order = sorted((c.inv, i) for i, c in enumerate(calls) if c.ret is None)
    for _, i in order:
        try:
            k = index.setdefault(calls[i].arg, len(members))
        except TypeError:
            continue
        if k == len(members):
            members.append([])
        members[k].append(i)
        cls[i] = k
    for m in members:
        m.append(-1)
    return cls, members
