"""Linearizability checker: is there one order of the ops, consistent with real time, that the model accepts?

Usage::

    from splitbrain.checkers.linearizable import check, MODELS
    result = check(history, "cas-register", init=None, timeout=60)

Models (``MODELS``; each factory takes ``init``):

- ``register`` / ``cas-register``: f ``read`` (the completion's value is what was read),
  ``write`` v, ``cas`` [old, new]. Init defaults to null.
- ``kv``: porcupine's get/put/append per ``key``; every key starts as "".
- ``set``: ``add`` v, ``read`` returning the whole set.
- ``queue``: ``enqueue`` v, ``dequeue`` returning the head (null: the queue was empty).
- ``mutex``: ``acquire``/``release``; init "released" (default) or "acquired".
- ``multi-register``: Knossos' transactional register; f ``txn``, value a list of
  ``[read, k, v]`` / ``[write, k, v]``; init a map such as {"x": 0, "y": 0}.

A ``Model`` from ``checkers.models``, or any object with ``init()`` and
``step(state, f, invoke_value, ok_value) -> (ok, state)``, may be passed instead of a name.

Semantics of outcomes. ``ok`` happened between its invoke and its completion. ``fail``
did not happen and is dropped. ``info``, and an invoke that never completed, may have taken
effect at any point after its invoke, or never; an indeterminate read constrains nothing
and is dropped. Nemesis ops are ignored. Real time is the order of the history list.

Porcupine's etcd logs write ``:fail :cas`` for a CAS that completed without applying and
``:fail :read :timed-out`` for a read that timed out. This checker reads every ``fail`` as
"did not happen" (Jepsen's meaning), and a timed-out read is dropped either way. Reading a
failed CAS as "completed, found a value other than old" (``models.register(init,
failed_cas="no-op")``) gives the same verdicts on all 102 etcd logs of the shared fixtures;
the test suite checks both readings.

Algorithms. Ops that carry a ``key`` are split by key and each key is checked on its own
(P-compositionality); with many keys and a large history, and room on the machine, a forked
copy of the process checks some of the keys. Each key is decided by:

1. ``unique-values`` (register models, when every written value is unique per key and
   differs from init): the Gibbons-Korach zone conditions, O(n log n), extended to CAS: an
   ok CAS [a, b] makes b follow a immediately, so CASes link values into chains, each chain
   is checked on its own and then placed like one written value (see
   ``checkers.register_fastpath``). It decides read/write/CAS histories outright, valid or
   not, which is what makes 20,000-op, 20-process single-key histories decidable in a
   fraction of a second. It defers to ``wgl`` only for failed CASes read as "no-op", and
   for repeated or unhashable written values.
2. ``wgl``: Wing & Gong's backtracking search with Lowe's memoisation of (linearized-ops
   bitset, model state), as porcupine does; it decides any model. Indeterminate ops with the
   same effect are interchangeable, so only the earliest of them is tried at each point.

When ``unique-values`` finds a violation it names a small set of ops (closed under "the op
that wrote each observed value", a CAS at the edge of the set counting as a plain write) and
``wgl`` re-checks just that set: the verdict is then backed by the general search, and the
counterexample is the minimal window. Should that set be too large to search (over
``MAX_WITNESS`` ops) or the search run out of time, the zone proof stands alone and the
counterexample names the op the zones could not place.

Result::

    {"valid": True | False | "unknown", "model": name, "keys": n, "algorithm": "wgl" | ...,
     "unknown_reason": "timeout" | "memory",            # only when unknown
     "failures": [counterexample, ...],                  # one per failing key, first 10
     "failures_total": n, "counterexample": failures[0]} # when invalid

A counterexample names the op that cannot be placed, the model ``state`` before it, the
last <= 20 ops of the ``linearized`` prefix found, the ops ``concurrent`` with it (<= 20),
and a short ``text``. Ops are described as {process, f, value (invoke), result (completion),
type, invoke_index, complete_index}. ``timeout`` (seconds, for the whole check) and
``memory_limit_mb`` (an estimate of the search cache, default 1024) end the search with
"unknown", never a guess.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from splitbrain.checkers import register_fastpath, register_repeated, wgl
from splitbrain.checkers.models import (
    DROP,
    MODELS,
    Model,
    ModelInputError,
    freeze,
    from_protocol,
    thaw,
)
from splitbrain.harness.base import forked, lifetime, plugins
from splitbrain.harness.base.history import (
    NOT_AN_INVOKE,
    Op,
    completion_positions,
    gc_paused,
    merge_valid,
)
from splitbrain.harness.base.notation import value_text

__all__ = ["check", "MODELS", "Model", "ModelInputError"]

DEFAULT_MEMORY_MB = 1024
MAX_FAILURES = 10
WINDOW = 20
PARALLEL_MIN_OPS = 20_000
MAX_WITNESS = 2000

Progress = Callable[[int, int], None]
"""Called with (keys decided, keys) while a check runs."""


def _quiet(decided: int, keys: int) -> None:
    pass


@dataclass(slots=True)
class _KeyHistory:
    key: Any
    history: list[Op]
    calls: list[wgl.Call] = field(default_factory=list)
    completions: list[int] = field(default_factory=list)
    """Per call, the history position of its completion (negative: none)."""

    def describe(self, i: int) -> dict[str, Any]:
        """Call i as {process, f, value, result, type, invoke_index, complete_index}."""
        inv = self.history[self.calls[i].inv]
        c = self.completions[i]
        comp = self.history[c] if c >= 0 else None
        return {
            "process": inv.process,
            "f": inv.f,
            "value": inv.value,
            "result": comp.value if comp is not None else None,
            "type": "ok" if self.calls[i].ret is not None else "info",
            "invoke_index": inv.index,
            "complete_index": comp.index if comp is not None else None,
        }


@dataclass(slots=True)
class _KeyOutcome:
    valid: bool | str
    algorithm: str
    reason: str = ""
    linearized: list[int] = field(default_factory=list)
    failed: int | None = None
    state: Any = None


def check(
    history: list[Op],
    model: str | Model | Any,
    *,
    init: Any = None,
    timeout: float | None = None,
    memory_limit_mb: int | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Check ``history`` against ``model``; see the module docstring for the result.
    ``progress(decided, keys)`` is called as keys are decided (for a status line)."""
    m = resolve_model(model, init)
    deadline = time.monotonic() + timeout if timeout is not None else None
    max_bytes = (memory_limit_mb or DEFAULT_MEMORY_MB) * 1024 * 1024
    with gc_paused():
        keys = split(history, m)
        lifetime.keep(keys, sum(len(kh.calls) for kh in keys))
        outcomes = _run_all(keys, m, deadline, max_bytes, workers, progress or _quiet)
        return _result(m, keys, outcomes)


def resolve_model(model: str | Model | Any, init: Any) -> Model:
    if isinstance(model, Model):
        return model
    if isinstance(model, str):
        factory = plugins.load_path(model, "model") if plugins.is_path(model) else MODELS.get(model)
        if factory is None:
            raise ModelInputError(f"unknown model {model!r}; use one of {', '.join(MODELS)}")
        if not callable(factory) or isinstance(factory, type):
            return resolve_model(factory() if isinstance(factory, type) else factory, init)
        return factory() if init is None and model in ("kv", "mutex") else factory(init)
    if hasattr(model, "step") and hasattr(model, "init"):
        return from_protocol(model)
    raise ModelInputError(f"not a model: {model!r}")


def split(history: list[Op], model: Model) -> list[_KeyHistory]:
    """Pair invokes with completions, prepare each op for the model, and group by key."""
    by_key: dict[Hashable, _KeyHistory] = {}
    prepare = model.prepare
    Call = wgl.Call
    for pos, c in enumerate(completion_positions(history)):
        if c == NOT_AN_INVOKE:
            continue
        inv = history[pos]
        if c >= 0:
            comp = history[c]
            status = comp.type
            try:
                arg = prepare(inv.f, inv.value, comp.value, status)
            except ModelInputError as e:
                raise ModelInputError(f"history entry {inv.index}: {e}") from None
        else:
            status = "info"
            try:
                arg = prepare(inv.f, inv.value, None, status)
            except ModelInputError as e:
                raise ModelInputError(f"history entry {inv.index}: {e}") from None
        if arg is DROP:
            continue
        key = inv.key
        if key is not None and type(key) is not int and type(key) is not str:
            key = freeze(key)
        kh = by_key.get(key)
        if kh is None:
            kh = by_key[key] = _KeyHistory(inv.key, history)
        kh.calls.append(Call(pos, c if status == "ok" else None, arg))
        kh.completions.append(c)
    return list(by_key.values())


# ---------------------------------------------------------------- per-key decision


@dataclass(frozen=True, slots=True)
class _Search:
    """What the general search needs of a model."""

    init: Any
    step: Any
    readonly: Any
    remember: bool
    """Keep each step's result: a register's states (one value each) repeat across the search."""

    @classmethod
    def of(cls, model: Model) -> _Search:
        return cls(model.init, model.step, model.readonly, model.unique_register)


def decide_keys(
    keys: list[list[wgl.Call]],
    search: _Search,
    deadline: float | None,
    max_bytes: int,
    decided: Callable[[], None] | None = None,
) -> list[_KeyOutcome | None]:
    """Search each key; the searches take turns, and stop once some key is invalid.

    As in porcupine, one invalid key settles the verdict, so keys still searching then are
    left undecided (None) rather than searched to the end.
    """
    out: list[_KeyOutcome | None] = [None] * len(keys)
    pending: dict[int, Any] = {
        k: wgl.search_steps(
            calls,
            search.init,
            search.step,
            readonly=search.readonly,
            deadline=deadline,
            max_bytes=max_bytes,
            remember=search.remember,
        )
        for k, calls in enumerate(keys)
    }
    while pending:
        for k, it in list(pending.items()):
            try:
                next(it)
                continue
            except StopIteration as stop:
                res: wgl.SearchResult = stop.value
                out[k] = _KeyOutcome(res.valid, "wgl", "", res.linearized, res.failed_op, res.state)
            except wgl.SearchAborted as e:
                out[k] = _KeyOutcome("unknown", "wgl", e.reason)
            del pending[k]
            if decided is not None:
                decided()
        if any(o is not None and o.valid is False for o in out):
            break
    return out


def _fast(
    calls: list[wgl.Call], model: Model, deadline: float | None, max_bytes: int
) -> _KeyOutcome | None:
    """The register verdict without the general search, when the zones or relabelling give one.

    An "invalid" gets its counterexample from searching the witness. The zones (or the
    single-observation refutation) prove an "invalid" on their own: if the witness search
    cannot finish, the verdict stands with the op that could not be placed; if it finds the
    witness linearizable after all, the fast path is not trusted and the general search decides.
    """
    if not model.unique_register:
        return None
    algorithm = "unique-values"
    fr = register_fastpath.decide(calls, model.init)
    if fr.valid is None and fr.reason == register_fastpath.NOT_UNIQUE:
        algorithm = "repeated-values"
        fr = register_repeated.decide(calls, model.init)
    if fr.valid is True:
        return _KeyOutcome(True, algorithm)
    if fr.valid is None or fr.witness is None:
        return None
    ids = fr.witness
    res = None
    if len(ids) <= MAX_WITNESS:
        try:
            res = wgl.search(
                register_fastpath.witness_calls(calls, fr),
                model.init,
                model.step,
                readonly=model.readonly,
                deadline=deadline,
                max_bytes=max_bytes,
                remember=True,
            )
        except wgl.SearchAborted:
            res = None
    if res is None:
        culprit = fr.culprit if fr.culprit is not None and fr.culprit >= 0 else ids[-1]
        return _KeyOutcome(False, algorithm, fr.reason, [], culprit, None)
    if res.valid:
        return None
    failed = ids[res.failed_op] if res.failed_op is not None else None
    return _KeyOutcome(
        False, algorithm, fr.reason, [ids[i] for i in res.linearized], failed, res.state
    )


def _run_all(
    keys: list[_KeyHistory],
    model: Model,
    deadline: float | None,
    max_bytes: int,
    workers: int | None,
    progress: Progress,
) -> list[_KeyOutcome | None]:
    """The fast paths, then the general search for the keys they leave; each shared with a
    forked child when that pays. ``progress`` hears of each key decided, in this process."""
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    done = 0

    def decided(n: int = 1) -> None:
        nonlocal done
        done += n
        progress(done, len(keys))

    def fast(kh: _KeyHistory) -> _KeyOutcome | None:
        return _fast(kh.calls, model, deadline, max_bytes)

    def fast_done(_: int, o: _KeyOutcome | None) -> None:
        if o is not None:
            decided()

    limit = PARALLEL_MIN_OPS if n_workers > 1 else math.inf
    out = forked.share(fast, keys, [len(kh.calls) for kh in keys], limit, fast_done)
    rest = [k for k, o in enumerate(out) if o is None]
    search = _Search.of(model)
    batch = [keys[k].calls for k in rest]
    total = sum(len(calls) for calls in batch)
    if n_workers <= 1 or len(rest) < 2 or total < PARALLEL_MIN_OPS or not forked.available():
        found = decide_keys(batch, search, deadline, max_bytes, decided)
    else:
        found = _run_parallel(batch, search, deadline, max_bytes, decided)
    for k, o in zip(rest, found, strict=True):
        out[k] = o
    return out


def _run_parallel(
    keys: list[list[wgl.Call]],
    search: _Search,
    deadline: float | None,
    max_bytes: int,
    decided: Callable[[int], None],
) -> list[_KeyOutcome | None]:
    """Two round-robin shares of the keys, biggest first so that big keys spread out, one
    searched by a forked child when there is room (``harness.base.forked``)."""
    order = sorted(range(len(keys)), key=lambda i: -len(keys[i]))
    shares = [order[0::2], order[1::2]]

    def decide(share: list[int]) -> list[_KeyOutcome | None]:
        return decide_keys([keys[i] for i in share], search, deadline, max_bytes)

    weights = [sum(len(keys[i]) for i in share) for share in shares]
    out: list[_KeyOutcome | None] = [None] * len(keys)
    found = forked.share(
        decide, shares, weights, PARALLEL_MIN_OPS, lambda k, _: decided(len(shares[k]))
    )
    for share, outcomes in zip(shares, found, strict=True):
        for i, o in zip(share, outcomes, strict=True):
            out[i] = o
    return out


# ---------------------------------------------------------------- result


def _result(
    model: Model, keys: list[_KeyHistory], all_outcomes: list[_KeyOutcome | None]
) -> dict[str, Any]:
    outcomes = [o for o in all_outcomes if o is not None]
    valid = merge_valid(o.valid for o in outcomes)  # type: ignore[misc]
    algorithms = sorted({o.algorithm for o in outcomes})
    result: dict[str, Any] = {
        "valid": valid,
        "model": model.name,
        "keys": len(keys),
        "algorithm": "+".join(algorithms) if algorithms else "none",
    }
    if not keys:
        result["note"] = "the history has no client operations to check"
    undecided = len(all_outcomes) - len(outcomes)
    if undecided:
        result["keys_undecided"] = undecided
        result["note"] = f"{undecided} key(s) left unsearched once another key was found invalid"
    if valid == "unknown":
        result["unknown_reason"] = next(o.reason for o in outcomes if o.valid == "unknown")
    failures = [
        counterexample(model, kh, o)
        for kh, o in zip(keys, all_outcomes, strict=True)
        if o is not None and o.valid is False
    ]
    if failures:
        result["failures_total"] = len(failures)
        result["failures"] = failures[:MAX_FAILURES]
        if len(failures) > MAX_FAILURES:
            result["failures_capped"] = MAX_FAILURES
        result["counterexample"] = failures[0]
    else:
        result["failures"] = []
    return result


def counterexample(model: Model, kh: _KeyHistory, o: _KeyOutcome) -> dict[str, Any]:
    calls = kh.calls
    failed = o.failed if o.failed is not None else (o.linearized[-1] if o.linearized else 0)
    fc = calls[failed]
    end = fc.ret if fc.ret is not None else float("inf")
    overlapping = [
        i
        for i, c in enumerate(calls)
        if i != failed and c.inv < end and (c.ret is None or c.ret > fc.inv)
    ]
    overlapping.sort(key=lambda i: (calls[i].ret is None, -calls[i].inv))
    concurrent = sorted(overlapping[:WINDOW], key=lambda i: calls[i].inv)
    window = o.linearized[-WINDOW:]
    state = model.describe(o.state)
    op = kh.describe(failed)
    lines = [
        f"{'key ' + value_text(kh.key) + ': ' if kh.key is not None else ''}{_short(op)} cannot be linearized.",
        f"After the longest linearization found ({len(o.linearized)} ops"
        + (f", ending with {_short(kh.describe(window[-1]))}" if window else "")
        + f") the state is {value_text(state)}.",
        _concurrent_text(len(concurrent)),
    ]
    if o.reason:
        check = "Zone check" if o.algorithm == "unique-values" else "Repeated-value check"
        lines.append(f"{check}: {o.reason}.")
    return {
        "key": thaw(freeze(kh.key)) if kh.key is not None else None,
        "op": op,
        "state": state,
        "linearized": [kh.describe(i) for i in window],
        "linearized_total": len(o.linearized),
        "concurrent": [kh.describe(i) for i in concurrent],
        "text": "\n".join(lines),
    }


def _concurrent_text(n: int) -> str:
    if n == 0:
        return "No op was concurrent with it."
    return f"{n} {'op was' if n == 1 else 'ops were'} concurrent with it."


def _short(d: dict[str, Any]) -> str:
    if d["f"] == "read" or d["result"] is not None and d["value"] is None:
        what = f"{d['f']} -> {value_text(d['result'])}"
    else:
        what = f"{d['f']} {value_text(d['value'])}"
        if d["type"] == "ok" and d["result"] is not None and d["result"] != d["value"]:
            what += f" -> {value_text(d['result'])}"
    idx = d["invoke_index"]
    span = (
        f"{idx}..{d['complete_index']}"
        if d["complete_index"] is not None
        else f"{idx}.. (no completion)"
    )
    status = "" if d["type"] == "ok" else " [indeterminate]"
    return f"process {d['process']} {what}{status} (history {span})"
