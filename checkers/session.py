"""The session guarantees of Terry et al. (1994) for register and key-value histories, per process.

Usage::

    from splitbrain.checkers import session
    session.read_your_writes(history)          # or monotonic_reads, monotonic_writes,
    session.check(history, "monotonic-reads")  # writes_follow_reads

Ops: ``read`` / ``write`` / ``cas`` [old, new] (a register, per ``key`` when ops carry one) or
porcupine's ``get`` / ``put`` (kv: every key starts as ""); ``append`` is not a register write
and is refused. An ok CAS counts as a read of ``old`` followed by a write of ``new`` in its
session (the atomicity of a CAS is no session guarantee). ``fail`` ops did not happen;
indeterminate writes (``info``, no completion) may have happened and are among the writes a
read can have read from; indeterminate reads say nothing. With a non-null ``init`` a read of
null is a read of an unknown value (as in Knossos' cas-register) and says nothing either.

A session is a process. A retired process (its op ended in ``info``) never issues again; its
worker goes on as a new process, which is a new session, as in Jepsen.

What is checked. Each session has its own view: one order of the versions of each key, the
initial value first (sessions may disagree about concurrent writes, so causal memory implies
every guarantee here). A read *observes* the version it returned, the one its write wrote.

- ``read-your-writes``: a read sees every earlier write of its own session to its key: what it
  returned is that write or a version its session orders after it. Violations: a read of the
  initial value after an own write, or reads that need the session's own writes in two
  orders at once (wrote a, wrote b, read a, read b).
- ``monotonic-reads``: a session's successive reads of a key observe versions in its view's
  order: once it has observed a version it never observes an older one. Violations: a read
  of the initial value after a read of a written value, or a version observed again after a
  different one (a, b, a).
- ``monotonic-writes`` (as Jepsen states it: if a process writes w1 and then w2, every process
  observes w1 before w2): no process observes w2 and afterwards a state of w1's key older
  than w1 (its initial value, or a write of that key that w1's process made before w1), nor,
  when w1 and w2 write the same key, w1 itself.
- ``writes-follow-reads`` (session causality: if a process read a value written by w1 and
  then wrote w2, w2 is visible only after w1): no process observes w2 and afterwards the
  initial value of w1's key. The dependency is transitive (what the reader of w2 had itself
  observed before a later write of its own also follows).

Only these patterns are violations: an observation is "older" or "without w1" only where the
guarantee itself orders the versions (nothing is inferred from real time or from other
guarantees), so each check holds for every history that a system keeping that one guarantee
can produce, and is exact for it. A read of a value that no write wrote (and that is not the
initial value) is explained by no execution at all and fails every guarantee (``thin-air``).

Repeated values. When written values are unique per key (and differ from the initial value)
every read names the write it observed and the checks are exact. When a value is written
more than once, ``monotonic-reads`` stays exact (each return to a value needs a write of it
not yet used), and ``read-your-writes`` is exact for reads whose value some other session also
wrote. A read that could come from several writes is otherwise left out; a violation found
without it is a violation still, but when none is found and such reads were left out the
history is refused (``ModelInputError``, exit 254, naming the count): the guarantee is decided
only for it with unique values, and ``unknown`` is kept for running out of time or memory.

Result::

    {"valid": True | False | "unknown", "guarantee": name, "sessions": n, "reads": n,
     "violations": [violation, ...] (first 10), "violations_total": n, "violation": first,
     "ambiguous_reads": n}

A violation: {"guarantee", "kind", "process" (the session), "key", "ops": [op, ...] (in the
order of the pattern), "text"}; ops are {process, f, value, result, type, invoke_index,
complete_index} as in the linearizability counterexample.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any

from splitbrain.checkers.models import ModelInputError, freeze, thaw
from splitbrain.harness.base.history import Op, pairs
from splitbrain.harness.base.notation import value_text

__all__ = [
    "GUARANTEES",
    "check",
    "read_your_writes",
    "monotonic_reads",
    "monotonic_writes",
    "writes_follow_reads",
    "register_events",
]

MAX_VIOLATIONS = 10
INIT: Any = ("<init>",)
"""The initial version of every key (what a read of the initial value observed)."""


# ---------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Event:
    """One read or write of one key in a session; an ok CAS is a read and then a write."""

    id: int
    process: Any
    seq: int
    """Position in its session."""
    kind: str
    """"read" or "write"."""
    key: Hashable
    value: Hashable
    ok: bool
    """False: an indeterminate write (it may or may not have happened)."""
    op: dict[str, Any] = field(compare=False, hash=False)


@dataclass
class RegisterHistory:
    """A history's register events, per session, with each read's possible sources."""

    events: list[Event]
    sessions: dict[Any, list[Event]]
    writers: dict[tuple[Hashable, Hashable], list[Event]]
    """(key, value) -> the writes (ok or indeterminate) of that value."""
    init: Hashable

    def sources(self, read: Event) -> list[Any]:
        """The versions a read can have observed: writes of its value, and INIT."""
        out: list[Any] = list(self.writers.get((read.key, read.value), ()))
        if read.value == self.init:
            out.append(INIT)
        return out

    def source(self, read: Event) -> Any:
        """The one version the read observed; None when none or several could be it."""
        s = self.sources(read)
        return s[0] if len(s) == 1 else None

    def thin_air(self, read: Event) -> bool:
        return not self.sources(read)


REGISTER_FS = {"read": "read", "write": "write", "cas": "cas", "get": "read", "put": "write"}


def register_events(history: list[Op], init: Any = None) -> RegisterHistory:
    """Reads and writes per session (process), ready for the session and causal checks."""
    fs = {op.f for op in history if op.is_client}
    kv = bool(fs & {"get", "put", "append"})
    if "append" in fs:
        raise ModelInputError(
            "append is not a register write: session and causal checks take read/write/cas "
            "or get/put histories"
        )
    unknown = sorted(map(str, fs - REGISTER_FS.keys()))
    if unknown:
        raise ModelInputError(
            f"session and causal checks take read/write/cas or get/put ops; got {', '.join(unknown)}"
        )
    init_value = freeze("" if kv and init is None else init)
    null_unknown = not kv and init is not None
    events: list[Event] = []
    sessions: dict[Any, list[Event]] = {}
    for pair in pairs(history):
        inv, comp, status = pair.invoke, pair.complete, pair.outcome
        if status == "fail":
            continue
        f = REGISTER_FS[inv.f]
        result = comp.value if comp is not None else None
        desc = {
            "process": inv.process,
            "f": inv.f,
            "value": inv.value,
            "result": result,
            "type": status,
            "invoke_index": inv.index,
            "complete_index": comp.index if comp is not None else None,
        }
        key = freeze(inv.key)
        session = sessions.setdefault(freeze(inv.process), [])
        if f == "read":
            if status != "ok" or (result is None and null_unknown):
                continue
            value = freeze("" if kv and result is None else result)
            _add(events, session, inv.process, "read", key, value, True, desc)
        elif f == "write":
            _add(
                events, session, inv.process, "write", key, freeze(inv.value), status == "ok", desc
            )
        else:
            if not isinstance(inv.value, list | tuple) or len(inv.value) != 2:
                raise ModelInputError(
                    f"history entry {inv.index}: cas value must be [old, new], got {inv.value!r}"
                )
            old, new = freeze(inv.value[0]), freeze(inv.value[1])
            if status == "ok":
                _add(events, session, inv.process, "read", key, old, True, desc)
            _add(events, session, inv.process, "write", key, new, status == "ok", desc)
    writers: dict[tuple[Hashable, Hashable], list[Event]] = {}
    for e in events:
        if e.kind == "write":
            writers.setdefault((e.key, e.value), []).append(e)
    return RegisterHistory(events, sessions, writers, init_value)


def _add(
    events: list[Event],
    session: list[Event],
    process: Any,
    kind: str,
    key: Hashable,
    value: Hashable,
    ok: bool,
    desc: dict[str, Any],
) -> None:
    e = Event(len(events), process, len(session), kind, key, value, ok, desc)
    events.append(e)
    session.append(e)


# ---------------------------------------------------------------- the checks


@dataclass
class _Findings:
    guarantee: str
    violations: list[dict[str, Any]] = field(default_factory=list)
    ambiguous: int = 0

    def add(self, kind: str, process: Any, key: Hashable, ops: list[Event], text: str) -> None:
        self.violations.append(
            {
                "guarantee": self.guarantee,
                "kind": kind,
                "process": process,
                "key": thaw(key),
                "ops": [e.op for e in _unique(ops)],
                "text": text,
            }
        )


def _unique(events: list[Event]) -> list[Event]:
    seen: set[int] = set()
    out = []
    for e in events:
        if id(e.op) not in seen:
            seen.add(id(e.op))
            out.append(e)
    return out


def _thin_air(h: RegisterHistory, found: _Findings) -> None:
    for e in h.events:
        if e.kind == "read" and h.thin_air(e):
            found.add(
                "thin-air",
                e.process,
                e.key,
                [e],
                f"process {e.process} {_read_text(h, e)}, a value no write wrote: no execution "
                "explains it, so no guarantee holds",
            )


def _ryw(h: RegisterHistory, found: _Findings) -> None:
    for session in h.sessions.values():
        own: dict[Hashable, list[Event]] = {}
        before: dict[Hashable, list[tuple[Event, Event, list[Event]]]] = {}
        for e in session:
            if e.kind == "write":
                if e.ok:
                    own.setdefault(e.key, []).append(e)
                continue
            mine = own.get(e.key, [])
            if not mine or h.thin_air(e):
                continue
            sources = h.sources(e)
            if any(s is not INIT and s.process != e.process for s in sources):
                continue  # another session's write: every own write can come before it
            if sources == [INIT]:
                found.add(
                    "initial-after-own-write",
                    e.process,
                    e.key,
                    [mine[-1], e],
                    f"process {e.process} wrote {_write_text(mine[-1])} and then "
                    f"{_read_text(h, e)}: the initial value, as if its own write had not happened",
                )
                continue
            src = [s for s in sources if s is not INIT]
            if len(src) != 1:
                found.ambiguous += 1
                continue
            before.setdefault(e.key, []).append((e, src[0], list(mine)))
        for key, reads in before.items():
            _ryw_cycle(h, found, key, reads)


def _ryw_cycle(
    h: RegisterHistory,
    found: _Findings,
    key: Hashable,
    reads: list[tuple[Event, Event, list[Event]]],
) -> None:
    """Each read of an own write W needs every own write before the read ordered before W."""
    edges: dict[int, dict[int, Event]] = {}
    writes: dict[int, Event] = {}
    for read, src, mine in reads:
        writes[src.id] = src
        for w in mine:
            writes[w.id] = w
            if w.id != src.id:
                edges.setdefault(w.id, {}).setdefault(src.id, read)
    cycle = _find_cycle(list(writes), lambda u: edges.get(u, {}).keys())
    if cycle is None:
        return
    ops: list[Event] = []
    parts = []
    for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=True):
        r = edges[a][b]
        ops += [writes[a], r]
        parts.append(f"{_read_text(h, r)} after writing {_write_text(writes[a])}")
    p = reads[0][0].process
    found.add(
        "own-writes-cycle",
        p,
        key,
        ops,
        f"process {p} {'; '.join(parts)}: its own writes would have to come each after the other",
    )


def _mr(h: RegisterHistory, found: _Findings) -> None:
    for session in h.sessions.values():
        by_key: dict[Hashable, list[Event]] = {}
        for e in session:
            if e.kind == "read" and not h.thin_air(e):
                by_key.setdefault(e.key, []).append(e)
        for key, reads in by_key.items():
            _mr_key(h, found, key, reads)


def _mr_key(h: RegisterHistory, found: _Findings, key: Hashable, reads: list[Event]) -> None:
    """Each return to a value after another needs a write of it not used yet: count runs."""
    runs: list[Event] = [r for i, r in enumerate(reads) if i == 0 or reads[i - 1].value != r.value]
    seen: dict[Hashable, list[Event]] = {}
    for i, r in enumerate(runs):
        previous = seen.setdefault(r.value, [])
        previous.append(r)
        versions = len(h.writers.get((key, r.value), ())) + (
            1 if r.value == h.init and runs[0].value == r.value else 0
        )
        if len(previous) <= versions:
            continue
        if previous[0] is r:  # the initial value, never written, after another value
            ops = [runs[i - 1], r]
            why = "the initial value, older than the version it had already observed"
        else:
            start = runs.index(previous[0])
            between = next(x for x in runs[start + 1 : i] if x.value != r.value)
            ops = [previous[0], between, r]
            times = "never" if versions == 0 else "once" if versions == 1 else f"{versions} times"
            why = (
                f"{value_text(thaw(r.value))} again; it was written {times}, so the session "
                "went back to a version older than one it had observed"
            )
        found.add(
            "went-back",
            r.process,
            key,
            ops,
            f"process {r.process} " + ", then ".join(_read_text(h, x) for x in ops) + f": {why}",
        )
        return


def _mw(h: RegisterHistory, found: _Findings) -> None:
    """An observer that saw w2 must not then see a state without w1 (w1 before w2 in its session)."""
    ok_writes: dict[tuple[Any, Hashable], list[Event]] = {}
    for e in h.events:
        if e.kind == "write" and e.ok:
            ok_writes.setdefault((freeze(e.process), e.key), []).append(e)
    seqs = {k: [w.seq for w in ws] for k, ws in ok_writes.items()}
    for observer in h.sessions.values():
        floor: dict[Any, tuple[Event, Event]] = {}
        for e, src in _observations(h, observer, found):
            for writer, (w2, r1) in floor.items():
                ws = seqs.get((writer, e.key))
                if not ws:
                    continue
                k = bisect.bisect_left(ws, w2.seq)
                if k == 0:
                    continue
                w1 = ok_writes[(writer, e.key)][k - 1]
                by_writer = src is not INIT and freeze(src.process) == writer and src.ok
                lacks = src is INIT or (
                    by_writer and (src.seq <= w1.seq if e.key == w2.key else src.seq < w1.seq)
                )
                if lacks:
                    earlier = w1
                    found.add(
                        "observed-out-of-order",
                        e.process,
                        e.key,
                        [earlier, w2, r1, e],
                        f"process {w1.process} wrote {_write_text(earlier)} before "
                        f"{_write_text(w2)}; process {e.process} {_read_text(h, r1)} and later "
                        f"{_read_text(h, e)}: it observed the writes out of their order",
                    )
                    break
            if src is not INIT:
                wp = freeze(src.process)
                if wp not in floor or floor[wp][0].seq < src.seq:
                    floor[wp] = (src, e)


def _wfr(h: RegisterHistory, found: _Findings) -> None:
    """An observer that saw w2 must not then read the initial value of a key whose written
    value w2's process had observed (directly, or through what it read) before w2."""
    deps: dict[int, dict[Hashable, tuple[Event, ...]]] = {}
    changed = True
    while changed:  # a fixpoint: dependencies flow through other sessions' writes
        changed = False
        for session in h.sessions.values():
            seen: dict[Hashable, tuple[Event, ...]] = {}
            for e in session:
                if e.kind == "write":
                    old = deps.get(e.id, {})
                    if len(seen) > len(old):
                        deps[e.id] = dict(seen)
                        changed = True
                    continue
                src = h.source(e)
                if src is None or src is INIT:
                    continue
                seen.setdefault(e.key, (src, e))
                for k, chain in deps.get(src.id, {}).items():
                    seen.setdefault(k, (*chain, src, e))
    for observer in h.sessions.values():
        required: dict[Hashable, tuple[Event, ...]] = {}
        for e, src in _observations(h, observer, found):
            if src is INIT and e.key in required:
                chain = required[e.key]
                r0, w2, r1 = chain[1], chain[-2], chain[-1]
                via = f", through {len(chain) // 2 - 2} more write(s)," if len(chain) > 4 else ""
                found.add(
                    "write-seen-without-its-past",
                    e.process,
                    e.key,
                    [*chain, e],
                    f"process {r0.process} {_read_text(h, r0)} before{via} writing "
                    f"{_write_text(w2)}; process {e.process} {_read_text(h, r1)} and later "
                    f"{_read_text(h, e)}: it saw the write without its past",
                )
                continue
            if src is not INIT:
                for k, chain in deps.get(src.id, {}).items():
                    required.setdefault(k, (*chain, src, e))


def _observations(
    h: RegisterHistory, session: list[Event], found: _Findings
) -> Iterator[tuple[Event, Any]]:
    """A session's reads with the one version each observed; reads that could have observed
    several are counted as ambiguous and left out."""
    for e in session:
        if e.kind != "read" or h.thin_air(e):
            continue
        src = h.source(e)
        if src is None:
            found.ambiguous += 1
            continue
        yield e, src


def _write_text(w: Event) -> str:
    key = f"{value_text(thaw(w.key))} = " if w.key is not None else ""
    return f"{key}{value_text(thaw(w.value))} ({w.op['f']} at history {w.op['invoke_index']})"


def _read_text(h: RegisterHistory, r: Event) -> str:
    key = f"{value_text(thaw(r.key))} " if r.key is not None else ""
    init = (
        " (the initial value)" if r.value == h.init and not h.writers.get((r.key, r.value)) else ""
    )
    return (
        f"read {key}{value_text(thaw(r.value))}{init} ({r.op['f']} at history "
        f"{r.op['invoke_index']})"
    )


def _find_cycle(nodes: list[int], succ: Callable[[int], Any]) -> list[int] | None:
    """A cycle of the graph, as its nodes in order; None when it is acyclic."""
    color: dict[int, int] = {}
    for root in nodes:
        if root in color:
            continue
        stack = [(root, iter(succ(root)))]
        path = [root]
        color[root] = 1
        while stack:
            u, it = stack[-1]
            for v in it:
                if color.get(v) == 1:
                    return path[path.index(v) :]
                if v not in color:
                    color[v] = 1
                    stack.append((v, iter(succ(v))))
                    path.append(v)
                    break
            else:
                stack.pop()
                path.pop()
                color[u] = 2
    return None


# ---------------------------------------------------------------- entry points

_CHECKS: dict[str, Callable[[RegisterHistory, _Findings], None]] = {
    "read-your-writes": _ryw,
    "monotonic-reads": _mr,
    "monotonic-writes": _mw,
    "writes-follow-reads": _wfr,
}
GUARANTEES: tuple[str, ...] = tuple(_CHECKS)


def check(
    history: list[Op],
    guarantee: str,
    model: str | None = None,
    *,
    init: Any = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Check one session guarantee; see the module docstring. ``model`` may name the data
    type (register, cas-register, kv); by default it is read off the ops. ``timeout`` is
    accepted for the common checker shape: the checks take linear to quadratic time."""
    if guarantee not in _CHECKS:
        raise ModelInputError(f"unknown session guarantee {guarantee!r}; use one of {GUARANTEES}")
    if model not in (None, "register", "cas-register", "kv"):
        raise ModelInputError(
            f"session guarantees apply to register and kv histories, not {model!r}"
        )
    h = register_events(history, init)
    found = _Findings(guarantee)
    _thin_air(h, found)
    _CHECKS[guarantee](h, found)
    violations = found.violations
    if not violations and found.ambiguous:
        raise ModelInputError(
            f"{guarantee}: {found.ambiguous} read(s) of values written more than once could come "
            "from several writes and no violation shows without them: decided only for histories "
            "whose written values are unique per key"
        )
    valid = not violations
    result: dict[str, Any] = {
        "valid": valid,
        "guarantee": guarantee,
        "sessions": len(h.sessions),
        "reads": sum(1 for e in h.events if e.kind == "read"),
        "violations": violations[:MAX_VIOLATIONS],
        "violations_total": len(violations),
    }
    if violations:
        result["violation"] = violations[0]
    if found.ambiguous:
        result["ambiguous_reads"] = found.ambiguous
    return result


def read_your_writes(history: list[Op], model: str | None = None, **kw: Any) -> dict[str, Any]:
    return check(history, "read-your-writes", model, **kw)


def monotonic_reads(history: list[Op], model: str | None = None, **kw: Any) -> dict[str, Any]:
    return check(history, "monotonic-reads", model, **kw)


def monotonic_writes(history: list[Op], model: str | None = None, **kw: Any) -> dict[str, Any]:
    return check(history, "monotonic-writes", model, **kw)


def writes_follow_reads(history: list[Op], model: str | None = None, **kw: Any) -> dict[str, Any]:
    return check(history, "writes-follow-reads", model, **kw)
