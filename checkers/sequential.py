"""Sequential consistency (Lamport): one total order of the ops that respects each process's
own order and the data type's sequential specification, real time ignored.

Usage::

    from splitbrain.checkers.sequential import check
    result = check(history, "cas-register", init=None, timeout=60)

The data types are the linearizability checker's ``Model`` objects (``register``,
``cas-register``, ``kv``, ``set``, ``queue``, ``mutex``, ``multi-register``, a ``Model`` or a
protocol object); with ``model=None`` the type is read off the ops' ``f`` (read/write/cas: a
cas-register, get/put/append: kv).

Per-key sequential consistency. Ops that carry a ``key`` are split by key and each key is
checked on its own, as the linearizability checker does. Unlike linearizability, sequential
consistency is not compositional: every key can have its own sequential order while no single
order serves all keys at once. What this checker decides for a keyed history is therefore
*per-key sequential* consistency (each key's sub-history is sequentially consistent), which
is implied by, and weaker than, sequential consistency of the whole store; the result says
``"consistency": "per-key sequential"`` then. A history without keys is one object, and
per-key sequential is sequential.

Outcomes. ``ok`` ops happened, in their process's order. ``fail`` ops did not happen.
``info`` ops, and invokes that never completed, may have taken effect at any point after the
ops their process issued before them, or never; an indeterminate read constrains nothing. In
Jepsen histories such an op is its process's last (the process is retired and its worker goes
on as a new process), so nothing follows it. Should a process invoke again without a
completion, the indeterminate op is not ordered before that process's later ops.

Algorithm. A depth-first search over configurations (model state, how far each process has
got, how many indeterminate ops of each kind were applied), memoised as WGL and porcupine
memoise theirs: a configuration already explored is never explored again. A read-only op
that is legal is taken at once without trying alternatives (it changes no state, and the
rest of its process comes after it anyway). Indeterminate ops with the same effect are
interchangeable, so only their number matters. Depth-first searches have heavy tails, so two
move orders take turns, each an exhaustive search of its own: invocation order, and first
the moves that let waiting reads go on. With them runs the linearizability search (for
registers with unique values its zone check), since a linearization is a sequential order
too; it can only find a witness, never a violation. The first to settle the question
decides. Before searching a register key with unique values, the polynomial causal check
(``checkers.causal``) runs on it: sequential consistency implies causal convergence, so a bad
pattern there refutes the key at once (the violation then says ``refuted_by`` and names the
pattern's ops). Deciding sequential consistency is NP-complete (Gibbons & Korach), so ``timeout``
(seconds, for the whole check) and ``memory_limit_mb`` (an estimate of the configuration
caches) end the search with ``"unknown"``, never a guess.

Result::

    {"valid": True | False | "unknown", "model": name, "consistency": "sequential" |
     "per-key sequential", "keys": n, "unknown_reason": "timeout" | "memory",
     "failures": [violation, ...], "failures_total": n, "violation": failures[0]}

A violation names the ``key``, the smallest ``prefix`` of the history that is already not
sequentially consistent (the ops completed before history position ``prefix_end``, with
everything else allowed to happen or not), the ``op`` whose completion made it so, the
``processes`` and ``ops`` involved (a small set of those ops that on its own cannot be
ordered, ``minimal`` saying whether it is known to be minimal), the longest order found
(``ordered``, its last ops) with the ``state`` after it and each process's ``blocked`` next
op, and a ``text`` in words. A violation found by the causal refutation has ``refuted_by``
(the bad pattern), the pattern's ``ops`` as the causal check lists them (``minimal`` is
false) and ``prefix_end`` where the last of them completed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Hashable
from dataclasses import dataclass
from typing import Any

from splitbrain.checkers import causal, register_fastpath, wgl
from splitbrain.checkers.linearizable import _KeyHistory, _short, resolve_model, split
from splitbrain.checkers.models import DROP, ILLEGAL, Model, ModelInputError, freeze, thaw
from splitbrain.harness.base.history import Op, merge_valid
from splitbrain.harness.base.notation import value_text

__all__ = ["check", "infer_model"]

DEFAULT_MEMORY_MB = 1024
MAX_FAILURES = 10
WINDOW = 20
_ENTRY_BYTES = 200
_CHECK_EVERY = 1024
EXPLAIN_STEPS = 50_000
"""Search steps each explanation search may take (the verdict never depends on them)."""
EXPLAIN_SECONDS = 10.0
"""Time all explanation searches of one violation may take together."""
MINIMIZE_MAX_OPS = 60
"""Violations with more ops than this are not shrunk op by op."""

REGISTER_FS = frozenset({"read", "write", "cas"})
KV_FS = frozenset({"get", "put", "append"})


class _Aborted(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def infer_model(history: list[Op]) -> str:
    """The data type of a history that names none: cas-register or kv, from the ops' ``f``."""
    fs = {op.f for op in history if op.is_client}
    if fs <= REGISTER_FS:  # also no client op at all: nothing to check, any type will do
        return "cas-register"
    if fs and fs <= KV_FS:
        return "kv"
    raise ModelInputError(
        f"cannot tell the data type from the ops ({', '.join(sorted(map(str, fs))) or 'none'}); "
        "name a model (register, cas-register, kv, set, queue, ...)"
    )


def check(
    history: list[Op],
    model: str | Model | Any | None = None,
    *,
    init: Any = None,
    timeout: float | None = None,
    memory_limit_mb: int | None = None,
    shortcuts: bool = True,
) -> dict[str, Any]:
    """Check ``history`` for (per-key) sequential consistency; see the module docstring.
    ``shortcuts=False`` leaves out the linearization search and the causal refutation (tests
    use it to exercise the sequential search alone)."""
    m = resolve_model(model if model is not None else infer_model(history), init)
    deadline = time.monotonic() + timeout if timeout is not None else None
    max_entries = (memory_limit_mb or DEFAULT_MEMORY_MB) * 1024 * 1024 // _ENTRY_BYTES
    keys = split(history, m)
    outcomes: list[dict[str, Any] | None] = []
    failures: list[dict[str, Any]] = []
    unknown_reason = None
    for kh in keys:
        if shortcuts and m.unique_register:
            if register_fastpath.decide(kh.calls, m.init).valid is True:
                outcomes.append({"valid": True})  # linearizable, so sequential
                continue
            refuted = _causal_refutation(kh, m)
            if refuted is not None:
                outcomes.append({"valid": False})
                failures.append(refuted)
                break
        problem = _KeyProblem.of(kh, m, shortcuts)
        try:
            found = problem.search(deadline, max_entries)
        except _Aborted as e:
            unknown_reason = unknown_reason or e.reason
            outcomes.append({"valid": "unknown"})
            continue
        outcomes.append({"valid": found.valid})
        if not found.valid:
            failures.append(_violation(m, kh, problem, found, deadline, max_entries))
            break
    valid = merge_valid(o["valid"] for o in outcomes if o is not None)
    keyed = any(kh.key is not None for kh in keys)
    result: dict[str, Any] = {
        "valid": valid,
        "model": m.name,
        "consistency": "per-key sequential" if keyed else "sequential",
        "keys": len(keys),
    }
    if not keys:
        result["note"] = "the history has no client operations to check"
    if len(outcomes) < len(keys):
        result["keys_undecided"] = len(keys) - len(outcomes)
        result["note"] = f"{len(keys) - len(outcomes)} key(s) left unchecked once a key failed"
    if valid == "unknown":
        result["unknown_reason"] = unknown_reason
    result["failures"] = failures
    if failures:
        result["failures_total"] = len(failures)
        result["violation"] = failures[0]
    return result


# ---------------------------------------------------------------- one key's search


@dataclass(slots=True)
class _Found:
    valid: bool
    order: list[int]
    """Op ids in the order found (all of it when valid; the longest prefix reached otherwise)."""
    state: Any
    blocked: list[int]
    """When invalid: each unfinished process's next definite op at the deepest point."""


@dataclass
class _KeyProblem:
    """One key's ops as the search sees them: per process, definite ops in order, and the
    indeterminate ops with the point of their process at which they become possible."""

    model: Model
    history: list[Op]
    calls: list[Any]
    procs: list[Any]
    """Process of each call."""
    definite: list[bool]
    args: list[Any]
    shortcuts: bool = True
    """Also look for a linearization (it is a sequential order too); off only in tests."""

    @classmethod
    def of(cls, kh: _KeyHistory, model: Model, shortcuts: bool = True) -> _KeyProblem:
        calls = kh.calls
        return cls(
            model,
            kh.history,
            calls,
            [kh.history[c.inv].process for c in calls],
            [c.ret is not None for c in calls],
            [c.arg for c in calls],
            shortcuts,
        )

    def relaxed(self, indeterminate: set[int]) -> _KeyProblem:
        """The same ops with those in ``indeterminate`` read as "may or may not have happened"."""
        args = list(self.args)
        definite = list(self.definite)
        for i in indeterminate:
            if not definite[i]:
                continue
            definite[i] = False
            args[i] = self._info_arg(i)
        return _KeyProblem(
            self.model, self.history, self.calls, self.procs, definite, args, self.shortcuts
        )

    def _info_arg(self, i: int) -> Any:
        inv = self.history[self.calls[i].inv]
        ret = self.calls[i].ret
        result = self.history[ret].value if ret is not None else None
        return self.model.prepare(inv.f, inv.value, result, "info")

    def search(
        self, deadline: float | None, max_entries: int | None, max_steps: int | None = None
    ) -> _Found:
        """Two move orders take turns (each search alone is exhaustive, and either may be
        the lucky one: depth-first searches have heavy tails), and with them the
        linearizability search, whose linearization, when there is one, is also a sequential
        order. The first that settles the question decides."""
        runs: list[Generator[None, None, Any]] = [
            self._steps(deadline, max_entries, max_steps, e) for e in (False, True)
        ]
        if self.shortcuts:
            calls = [
                wgl.Call(c.inv, c.ret if self.definite[i] else None, self.args[i])
                for i, c in enumerate(self.calls)
                if self.args[i] is not DROP
            ]
            runs.append(
                wgl.search_steps(
                    calls,
                    self.model.init,
                    self.model.step,
                    readonly=self.model.readonly,
                    deadline=deadline,
                    max_bytes=(max_entries or 0) * _ENTRY_BYTES // 2 or None,
                    remember=self.model.unique_register,
                )
            )
        while True:
            for it in list(runs):
                try:
                    next(it)
                except StopIteration as stop:
                    res = stop.value
                    if isinstance(res, _Found):
                        return res
                    if res.valid:
                        return _Found(True, res.linearized, res.state, [])
                    runs.remove(it)
                except wgl.SearchAborted:
                    runs.remove(it)

    def _steps(
        self,
        deadline: float | None,
        max_entries: int | None,
        max_steps: int | None,
        enabling_first: bool,
    ) -> Generator[None, None, _Found]:
        return _search(
            [c.inv for c in self.calls],
            self.procs,
            self.definite,
            self.args,
            self.model.init,
            self.model.step,
            self.model.readonly,
            deadline,
            max_entries // 2 if max_entries is not None else None,
            max_steps,
            enabling_first,
        )


def _search(
    invs: list[int],
    procs: list[Any],
    definite: list[bool],
    args: list[Any],
    init: Any,
    step: Callable[[Any, Any], Any],
    readonly: Callable[[Any], bool] | None,
    deadline: float | None,
    max_entries: int | None,
    max_steps: int | None,
    enabling_first: bool,
) -> Generator[None, None, _Found]:
    """The search as a generator that yields every few hundred steps, so strategies can take
    turns. ``enabling_first`` tries first the moves that let waiting reads go on; otherwise
    moves go in invocation order."""
    n = len(invs)
    enable = 1 if enabling_first else 0
    pid: dict[Any, int] = {}
    for i in sorted(range(n), key=invs.__getitem__):
        pid.setdefault(freeze(procs[i]), len(pid))
    P = len(pid)
    if max_entries is not None:  # the budget is in base-size entries; positions add 8 bytes each
        max_entries = max_entries * _ENTRY_BYTES // (_ENTRY_BYTES + 8 * P)
    defs: list[list[int]] = [[] for _ in range(P)]
    floating: list[tuple[int, int]] = []
    for i in sorted(range(n), key=invs.__getitem__):
        p = pid[freeze(procs[i])]
        if definite[i]:
            defs[p].append(i)
        elif args[i] is not DROP:
            floating.append((i, p))
    ro = [bool(readonly(a)) if readonly is not None and a is not DROP else False for a in args]

    # Indeterminate ops: classes by arg; each released when its process has placed every
    # definite op it invoked before it.
    cls_of: dict[Hashable, int] = {}
    members: list[list[int]] = []
    rel_at: list[list[list[tuple[int, int]]]] = [
        [[] for _ in range(len(defs[p]) + 1)] for p in range(P)
    ]
    for i, p in floating:
        try:
            key: Hashable = ("arg", args[i])
            hash(key)
        except TypeError:
            key = ("op", i)
        c = cls_of.setdefault(key, len(members))
        if c == len(members):
            members.append([])
        members[c].append(i)
        k = sum(1 for j in defs[p] if invs[j] < invs[i])
        rel_at[p][k].append((c, i))
    C = len(members)
    offset = [0] * C
    bits = 0
    for c in range(C):
        offset[c] = bits
        bits += len(members[c]).bit_length()
    cls_arg = [args[members[c][0]] for c in range(C)]
    cls_inv = [min(invs[i] for i in members[c]) for c in range(C)]

    pos = [0] * P
    applied = [0] * C
    rel_members: list[list[int]] = [[] for _ in range(C)]
    for p in range(P):
        for c, i in rel_at[p][0]:
            rel_members[c].append(i)
    remaining = sum(len(d) for d in defs)

    state = init
    appl = 0
    order: tuple | None = None  # linked list (op, rest)
    depth = 0
    best: tuple[int, tuple | None, Any, list[int]] = (-1, None, init, [])
    visited: set[tuple[Any, tuple[int, ...], int]] = set()
    steps = 0

    def advance(p: int) -> None:
        pos[p] += 1
        for c, i in rel_at[p][pos[p]]:
            rel_members[c].append(i)

    def retreat(p: int) -> None:
        for c, _ in rel_at[p][pos[p]]:
            rel_members[c].pop()
        pos[p] -= 1

    def undo_forced(forced: list[int], chain: tuple | None) -> tuple | None:
        nonlocal depth, remaining
        for p in reversed(forced):
            retreat(p)
            chain = chain[1]  # type: ignore[index]
        depth -= len(forced)
        remaining += len(forced)
        return chain

    def blocked_now() -> list[int]:
        return [defs[p][pos[p]] for p in range(P) if pos[p] < len(defs[p])]

    frames: list[list[Any]] = []
    # frame: [moves, next index, forced processes, state before the move taken, move taken]
    entering = True
    while True:
        steps += 1
        if steps % _CHECK_EVERY == 0:
            if deadline is not None and time.monotonic() > deadline:
                raise _Aborted("timeout")
            if max_entries is not None and len(visited) > max_entries:
                raise _Aborted("memory")
            if max_steps is not None and steps > max_steps:
                raise _Aborted("steps")
            yield
        if entering:
            entering = False
            forced: list[int] = []
            progress = True
            while progress:
                progress = False
                for p in range(P):
                    while pos[p] < len(defs[p]):
                        i = defs[p][pos[p]]
                        if not ro[i] or step(state, args[i]) is ILLEGAL:
                            break
                        advance(p)
                        forced.append(p)
                        order = (i, order)
                        depth += 1
                        remaining -= 1
                        progress = True
            if remaining == 0:
                return _Found(True, _unwind(order), state, [])
            key = (state, tuple(pos), appl)
            if key in visited:
                order = undo_forced(forced, order)
                if not frames:
                    break
                continue
            visited.add(key)
            if depth > best[0]:
                best = (depth, order, state, blocked_now())
            waiting = [
                args[defs[p][pos[p]]]
                for p in range(P)
                if pos[p] < len(defs[p]) and ro[defs[p][pos[p]]]
            ]
            moves: list[tuple[int, int, int, int, Any]] = []
            for p in range(P):
                if pos[p] < len(defs[p]):
                    i = defs[p][pos[p]]
                    if ro[i]:
                        continue
                    new = step(state, args[i])
                    if new is not ILLEGAL:
                        moves.append((-enable * _enabled(new, waiting, step), invs[i], 0, p, new))
            for c in range(C):
                if len(rel_members[c]) > applied[c]:
                    new = step(state, cls_arg[c])
                    if new is not ILLEGAL and new != state:
                        moves.append(
                            (-enable * _enabled(new, waiting, step), cls_inv[c], 1, c, new)
                        )
            moves.sort(key=lambda m: m[:4])
            frames.append([moves, 0, forced, state, None])
        frame = frames[-1]
        moves, idx = frame[0], frame[1]
        if frame[4] is not None:
            # undo the move taken from this frame
            kind, x = frame[4]
            state = frame[3]
            depth -= 1
            order = order[1]  # type: ignore[index]
            if kind == 0:
                retreat(x)
                remaining += 1
            else:
                applied[x] -= 1
                appl -= 1 << offset[x]
            frame[4] = None
        if idx < len(moves):
            _, _, kind, x, new = moves[idx]
            frame[1] = idx + 1
            frame[4] = (kind, x)
            if kind == 0:
                i = defs[x][pos[x]]
                advance(x)
                remaining -= 1
            else:
                i = rel_members[x][applied[x]]
                applied[x] += 1
                appl += 1 << offset[x]
            order = (i, order)
            depth += 1
            state = new
            entering = True
            continue
        frames.pop()
        order = undo_forced(frame[2], order)
        if not frames:
            break
    _, chain, st, blocked = best
    return _Found(False, _unwind(chain), st, blocked)


def _enabled(state: Any, waiting: list[Any], step: Callable[[Any, Any], Any]) -> int:
    """How many of the processes' waiting reads ``state`` makes legal (tried first)."""
    return sum(1 for a in waiting if step(state, a) is not ILLEGAL)


def _unwind(chain: tuple | None) -> list[int]:
    out = []
    while chain is not None:
        out.append(chain[0])
        chain = chain[1]
    out.reverse()
    return out


# ---------------------------------------------------------------- refuting through causality


def _causal_refutation(kh: _KeyHistory, model: Model) -> dict[str, Any] | None:
    """A register key that is not causally convergent is not sequentially consistent: a
    sequential order is an arbitration order consistent with causality in which every read
    returns the last write before it (so sequential consistency implies CCv). The causal check
    is polynomial, so it refutes what the search could take exponential time over. It applies
    to register models (the caller's test) with unique values, and only when every indeterminate op is its
    process's last (then the two checks read process order the same way)."""
    last: dict[Any, int] = {}
    for c in kh.calls:
        p = freeze(kh.history[c.inv].process)
        last[p] = max(last.get(p, -1), c.inv)
    positions: list[int] = []
    for i, c in enumerate(kh.calls):
        if c.ret is None and last[freeze(kh.history[c.inv].process)] != c.inv:
            return None
        positions.append(c.inv)
        if kh.completions[i] >= 0:
            positions.append(kh.completions[i])
    sub = [kh.history[pos] for pos in sorted(positions)]
    try:
        r = causal.check(sub, init=thaw(model.init))
    except ModelInputError:
        return None
    if r["valid"] is not False:
        return None
    v = r["violation"]
    where = f"key {value_text(kh.key)}: " if kh.key is not None else ""
    return {
        "key": thaw(freeze(kh.key)) if kh.key is not None else None,
        "prefix_end": max((o["complete_index"] or o["invoke_index"]) for o in v["ops"]),
        "op": v["ops"][-1],
        "processes": v["processes"],
        "ops": v["ops"],
        "minimal": False,
        "refuted_by": f"causal convergence (CCv): {v['pattern']}",
        "ordered": [],
        "ordered_total": 0,
        "state": None,
        "blocked": [],
        "text": (
            f"{where}not sequentially consistent: a sequential order would also be causally "
            f"convergent, and the key shows the bad pattern {v['pattern']} (Bouajjani et al.):"
            f"\n  {v['text']}"
        ),
    }


# ---------------------------------------------------------------- explaining a violation


def _violation(
    model: Model,
    kh: _KeyHistory,
    problem: _KeyProblem,
    found: _Found,
    deadline: float | None,
    max_entries: int,
) -> dict[str, Any]:
    """The smallest failing prefix, a small set of its ops that cannot be ordered, in words.

    Reading the ops completed from some history position on as indeterminate only adds
    orders, so "the first ``m`` completions, everything else optional" is monotone in ``m``
    and a binary search finds the smallest failing ``m``. Each explanation search has a step
    budget, and all of them a time budget: the verdict never depends on them, only how small
    the explanation gets (``minimal`` says whether it is known to be minimal)."""
    by_completion = sorted(
        (i for i in range(len(problem.calls)) if problem.definite[i]),
        key=lambda i: problem.calls[i].ret,
    )
    exact = True
    stop = time.monotonic() + EXPLAIN_SECONDS
    deadline = stop if deadline is None else min(deadline, stop)

    def invalid(relax: set[int]) -> _Found | None:
        nonlocal exact
        try:
            res = problem.relaxed(relax).search(deadline, max_entries, EXPLAIN_STEPS)
        except _Aborted:
            exact = False
            return None
        return res if not res.valid else None

    lo, hi = 1, len(by_completion)
    best_found = found
    while lo < hi:
        mid = (lo + hi) // 2
        res = invalid(set(by_completion[mid:]))
        if res is not None:
            hi, best_found = mid, res
        else:
            lo = mid + 1
    prefix = by_completion[:hi]
    culprit = prefix[-1]
    relax = set(by_completion[hi:])
    if len(prefix) <= MINIMIZE_MAX_OPS:
        for i in prefix[:-1]:
            res = invalid(relax | {i})
            if res is not None:
                relax.add(i)
                best_found = res
    else:
        exact = False
    core = [i for i in prefix if i not in relax]
    end_pos = problem.calls[culprit].ret
    return _describe(model, kh, core, culprit, end_pos, best_found, exact)


def _describe(
    model: Model,
    kh: _KeyHistory,
    core: list[int],
    culprit: int,
    end_pos: int,
    found: _Found,
    minimal: bool,
) -> dict[str, Any]:
    ops = sorted(core, key=lambda i: kh.calls[i].inv)
    processes = sorted({kh.describe(i)["process"] for i in ops}, key=repr)
    window = found.order[-WINDOW:]
    state = model.describe(found.state)
    key = thaw(freeze(kh.key)) if kh.key is not None else None
    where = f"key {value_text(kh.key)}: " if kh.key is not None else ""
    end_index = kh.history[end_pos].index
    lines = [
        f"{where}not sequentially consistent once history entry {end_index} completed "
        f"{_short(kh.describe(culprit))}: the ops completed up to there cannot all be put "
        "in one order that keeps each process's own order and the data type's rules, "
        "whatever the later or unfinished ops did.",
        (
            f"This op of process {processes[0]} cannot be placed at all, even with every "
            "other op free to happen or not:"
            if len(ops) == 1
            else f"{'These' if minimal else 'At most these'} {len(ops)} ops of "
            f"{'process' if len(processes) == 1 else 'processes'} "
            f"{', '.join(map(str, processes))} cannot be ordered together, even with every "
            "other op free to happen or not:"
        ),
        *(f"  {_short(kh.describe(i))}" for i in ops),
        f"The longest order found ({len(found.order)} ops"
        + (f", ending with {_short(kh.describe(window[-1]))}" if window else "")
        + f") leaves the state {value_text(state)}"
        + (
            "; the unfinished processes' next ops from there: "
            + "; ".join(_short(kh.describe(i)) for i in found.blocked[:WINDOW])
            + "."
            if found.blocked
            else "."
        ),
    ]
    return {
        "key": key,
        "prefix_end": end_index,
        "op": kh.describe(culprit),
        "processes": processes,
        "ops": [kh.describe(i) for i in ops],
        "minimal": minimal,
        "ordered": [kh.describe(i) for i in window],
        "ordered_total": len(found.order),
        "state": state,
        "blocked": [kh.describe(i) for i in found.blocked[:WINDOW]],
        "text": "\n".join(lines),
    }
