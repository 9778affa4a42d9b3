"""The linearizability checker against a brute-force reference, the fast path against the search,
and the shape of results, counterexamples and unknowns."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from splitbrain.checkers import register_fastpath, register_repeated, wgl
from splitbrain.checkers.linearizable import MODELS, check, resolve_model, split
from splitbrain.checkers.models import R_CAS, R_CAS_INFO, R_READ, R_WRITE, ModelInputError
from splitbrain.harness.base.history import Op

# ---------------------------------------------------------------- history generation


@dataclass
class Spec:
    f: str
    value: Any
    outcome: str  # ok, fail, info, open
    result: Any


def _build(schedule: list[int], specs: list[Spec], workers: int) -> list[Op]:
    """Turn a schedule (which worker acts next) into a history; an info op retires its process."""
    history: list[Op] = []
    proc = list(range(workers))
    next_proc = workers
    open_op: list[Spec | None] = [None] * workers
    it = iter(specs)
    for w in schedule:
        w %= workers
        spec = open_op[w]
        if spec is None:
            spec = next(it, None)
            if spec is None:
                continue
            open_op[w] = spec
            history.append(Op("invoke", spec.f, proc[w], spec.value))
            continue
        open_op[w] = None
        if spec.outcome == "open":
            open_op[w] = spec
            continue
        value = spec.result if spec.f == "read" else spec.value
        history.append(Op(spec.outcome, spec.f, proc[w], value if spec.outcome == "ok" else None))
        if spec.outcome == "info":
            proc[w] = next_proc
            next_proc += 1
    for i, op in enumerate(history):
        op.index = i
    return history


VALUES = st.sampled_from([None, 1, 2, 3])


def _spec(cas: bool) -> st.SearchStrategy[Spec]:
    fs = ["read", "write", "cas"] if cas else ["read", "write"]
    return st.builds(
        lambda f, v, old, outcome, result: Spec(
            f, [old, v] if f == "cas" else (None if f == "read" else v), outcome, result
        ),
        st.sampled_from(fs),
        st.sampled_from([1, 2, 3]),
        VALUES,
        st.sampled_from(["ok", "ok", "ok", "fail", "info", "open"]),
        VALUES,
    )


@st.composite
def register_histories(draw: st.DrawFn, max_ops: int = 7, cas: bool = True) -> list[Op]:
    specs = draw(st.lists(_spec(cas), min_size=1, max_size=max_ops))
    workers = draw(st.integers(1, 3))
    schedule = draw(st.lists(st.integers(0, 2), min_size=2 * len(specs), max_size=4 * len(specs)))
    return _build(schedule, specs, workers)


@st.composite
def unique_histories(draw: st.DrawFn, max_ops: int = 25) -> list[Op]:
    """Writes of unique values; reads return a recent value; CAS from a random earlier value."""
    n = draw(st.integers(1, max_ops))
    specs = []
    written: list[Any] = [None]
    for i in range(1, n + 1):
        f = draw(st.sampled_from(["read", "read", "write", "cas"]))
        outcome = draw(st.sampled_from(["ok"] * 6 + ["fail", "info", "open"]))
        if f == "read":
            specs.append(Spec("read", None, outcome, draw(st.sampled_from(written[-3:]))))
        elif f == "write":
            specs.append(Spec("write", i, outcome, None))
            written.append(i)
        else:
            specs.append(Spec("cas", [draw(st.sampled_from(written[-3:])), i], outcome, None))
            written.append(i)
    workers = draw(st.integers(1, 6))
    schedule = draw(st.lists(st.integers(0, 5), min_size=2 * n, max_size=3 * n))
    return _build(schedule, specs, workers)


@dataclass
class _Running:
    f: str
    value: Any
    applied: bool = False
    result: Any = None
    swapped: bool = False


@st.composite
def cas_histories(
    draw: st.DrawFn, max_ops: int = 9, max_workers: int = 5, init: Any = None
) -> list[Op]:
    """A run of a register with unique values and many CASes, as a client would record it.

    Each op takes effect (or not) at a drawn point of its interval, against a real register;
    a CAS is from the current value or a recent one. Clients crash (``info``, or no completion,
    and go on as a new process), CASes that find another value ``fail``, and with a drawn
    rate results lie (a read of another value, a CAS reported ok that did not swap), so both
    verdicts are common. With a non-null ``init`` one update may write null.
    """
    n = draw(st.integers(1, max_ops))
    workers = draw(st.integers(1, max_workers))
    lie = draw(st.sampled_from([0, 10, 25, 50]))
    null_free = init is not None

    def start(draw: st.DrawFn, started: int, state: Any, written: list[Any]) -> tuple[str, Any]:
        nonlocal null_free
        f = draw(st.sampled_from(["read", "read", "write", "cas", "cas", "cas"]))
        new: Any = started
        if f != "read" and null_free and draw(st.integers(0, 3)) == 0:
            new, null_free = None, False
        value = None if f == "read" else new
        if f == "cas":
            value = [draw(st.sampled_from([state, state, *written[-3:]])), new]
        return f, value

    return _simulate(draw, n, workers, lie, init, start)


def _simulate(
    draw: st.DrawFn,
    n: int,
    workers: int,
    lie: int,
    init: Any,
    start: Any,
) -> list[Op]:
    """Clients run ``n`` ops that ``start(draw, started, state, written)`` chooses against a
    real register; each takes effect (or not) at a drawn point of its interval."""
    state: Any = init
    written: list[Any] = [init]
    running: list[_Running | None] = [None] * workers
    proc = list(range(workers))
    next_proc = workers
    history: list[Op] = []
    started = 0
    while started < n or any(running):
        w = draw(st.sampled_from([w for w in range(workers) if running[w] or started < n]))
        r = running[w]
        if r is None:
            started += 1
            f, value = start(draw, started, state, written)
            running[w] = _Running(f, value)
            history.append(Op("invoke", f, proc[w], value))
        elif not r.applied and draw(st.integers(0, 9)) < 6:
            r.applied = True
            r.result = state
            if r.f == "write" or (r.f == "cas" and state == r.value[0]):
                state = r.value if r.f == "write" else r.value[1]
                written.append(state)
                r.swapped = True
        else:
            running[w] = None
            done = _completion(draw, r, proc[w], lie, written)
            if done is not None:
                history.append(done)
            if done is None or done.type == "info":
                proc[w] = next_proc
                next_proc += 1
    for i, op in enumerate(history):
        op.index = i
    return history


def _completion(
    draw: st.DrawFn, r: _Running, process: int, lie: int, written: list[Any]
) -> Op | None:
    """The completion of a running op, None for a client that crashed without one."""
    outcome = draw(st.sampled_from(["ok"] * 8 + ["info", "open"]))
    if outcome == "ok" and not (r.swapped or (r.f == "read" and r.applied)):
        outcome = "info" if r.f == "read" else "fail"
    if draw(st.integers(0, 299)) < lie:
        outcome = "ok"
    if outcome == "open":
        return None
    if outcome != "ok":
        return Op(outcome, r.f, process, None)
    if r.f != "read":
        return Op("ok", r.f, process, r.value)
    lied = draw(st.integers(0, 99)) < lie
    return Op("ok", "read", process, draw(st.sampled_from(written)) if lied else r.result)


# ---------------------------------------------------------------- brute-force reference


@dataclass
class _RefOp:
    f: str
    value: Any
    result: Any
    inv: int
    ret: float
    known: bool


def _reference_ops(history: list[Op]) -> list[_RefOp]:
    out: list[_RefOp] = []
    open_ops: dict[Any, tuple[int, Op]] = {}
    done: list[tuple[int, Op, int, Op | None]] = []
    for pos, op in enumerate(history):
        if op.type == "invoke":
            open_ops[op.process] = (pos, op)
        elif op.process in open_ops:
            ipos, inv = open_ops.pop(op.process)
            done.append((ipos, inv, pos, op))
    done += [(ipos, inv, -1, None) for ipos, inv in open_ops.values()]
    for ipos, inv, cpos, comp in done:
        typ = comp.type if comp is not None else "info"
        if typ == "fail":
            continue
        known = typ == "ok"
        out.append(
            _RefOp(
                inv.f,
                inv.value,
                comp.value if known and comp is not None else None,
                ipos,
                cpos if known else float("inf"),
                known,
            )
        )
    return out


def _apply(state: Any, op: _RefOp) -> tuple[bool, Any]:
    """A register's sequential spec; an included indeterminate op must take effect."""
    if op.f == "read":
        return (not op.known or state == op.result), state
    if op.f == "write":
        return True, op.value
    old, new = op.value
    return (state == old), new


def brute_force(history: list[Op], init: Any = None) -> bool:
    """Try every order of every subset of indeterminate ops (with all ok ops) in real-time order.

    Memoised on (placed ops, state), which only skips repeating a search already done.
    """
    ops = _reference_ops(history)
    must_before = [{j for j, b in enumerate(ops) if b.ret < a.inv} for a in ops]
    required = {i for i, o in enumerate(ops) if o.known}

    @functools.cache
    def dfs(placed: frozenset[int], state: Any) -> bool:
        if required <= placed:
            return True
        for i in range(len(ops)):
            if i in placed or not must_before[i] <= placed:
                continue
            ok, new = _apply(state, ops[i])
            if ok and dfs(placed | {i}, new):
                return True
        return False

    return dfs(frozenset(), init)


# ---------------------------------------------------------------- properties


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(register_histories())
def test_matches_brute_force(history: list[Op]) -> None:
    result = check(history, "cas-register", init=None)
    assert result["valid"] is brute_force(history), [o.to_dict() for o in history]


@st.composite
def crashy_histories(draw: st.DrawFn) -> list[Op]:
    """Few values, many crashed clients: indeterminate writes and CASes of the same value
    pile up, open together, beside reads that need some of them."""
    spec = st.builds(
        lambda f, v, old, outcome, result: Spec(
            f, [old, v] if f == "cas" else (None if f == "read" else v), outcome, result
        ),
        st.sampled_from(["read", "write", "write", "cas"]),
        st.sampled_from([1, 2]),
        st.sampled_from([None, 1, 2]),
        st.sampled_from(["ok", "ok", "info", "info", "open"]),
        st.sampled_from([None, 1, 2]),
    )
    specs = draw(st.lists(spec, min_size=4, max_size=13))
    schedule = draw(st.lists(st.integers(0, 4), min_size=2 * len(specs), max_size=3 * len(specs)))
    return _build(schedule, specs, draw(st.integers(2, 5)))


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(register_histories(max_ops=9), cas_histories(max_ops=11), crashy_histories()))
def test_search_matches_brute_force(history: list[Op]) -> None:
    """The search itself (its memo of the linearized ops as a window above the lowest open
    op, and the indeterminate ops by class), with no fast path in front of it."""
    model = resolve_model("cas-register", None)
    calls = [c for kh in split(history, model) for c in kh.calls]
    got = wgl.search(calls, model.init, model.step, readonly=model.readonly).valid
    assert got is brute_force(history), [o.to_dict() for o in history]


def _memo_key_invariant(f: dict[str, Any]) -> None:
    """At a pause of the search: its memo key (rel, floor, icode) is exactly the set of ops on
    its stack, and no two sets share a key (bit 0 of rel is the open op at the floor; each
    class's digit of icode stays below its base)."""
    placed = set()
    frame = f["stack"]
    while frame is not None:
        placed.add(f["op_of"][frame[0]])
        frame = frame[-1]
    ranks = {f["rank"][i] for i in placed if f["cls"][i] < 0}
    floor, rel = f["floor"], f["rel"]
    assert set(range(floor)) <= ranks and floor not in ranks
    assert ranks == set(range(floor)) | {floor + k for k in range(rel.bit_length()) if rel >> k & 1}
    members, weight = f["members"], f["weight"]
    icode = 0
    for c, m in enumerate(members):
        taken = [i for i in m if i in placed]
        assert taken == m[: len(taken)] and f["cpos"][c] == len(taken)
        base = (weight[c + 1] if c + 1 < len(members) else f["place"]) // weight[c]
        assert len(taken) < base
        icode += len(taken) * weight[c]
    assert f["icode"] == icode


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(cas_histories(max_ops=11), crashy_histories()))
def test_search_memo_key_is_the_set_of_ops_linearized(history: list[Op]) -> None:
    model = resolve_model("cas-register", None)
    calls = [c for kh in split(history, model) for c in kh.calls]
    every, wgl._CHECK_EVERY = wgl._CHECK_EVERY, 1
    try:
        steps = wgl.search_steps(calls, model.init, model.step, readonly=model.readonly)
        while True:
            try:
                next(steps)
            except StopIteration:
                break
            _memo_key_invariant(steps.gi_frame.f_locals)
    finally:
        wgl._CHECK_EVERY = every


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(register_histories(max_ops=6, cas=False))
def test_unique_or_not_read_write_matches_brute_force(history: list[Op]) -> None:
    assert check(history, "register")["valid"] is brute_force(history)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unique_histories())
def test_fast_path_agrees_with_search(history: list[Op]) -> None:
    model = resolve_model("cas-register", None)
    for kh in split(history, model):
        fast = register_fastpath.decide(kh.calls, model.init)
        slow = wgl.search(kh.calls, model.init, model.step, readonly=model.readonly)
        assert fast.valid is slow.valid, [o.to_dict() for o in history]
        _assert_screen_agrees(kh.calls, model.init)
    assert check(history, "cas-register")["valid"] is (
        wgl.search(split(history, model)[0].calls, model.init, model.step).valid
        if split(history, model)
        else True
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unique_histories(max_ops=7))
def test_unique_values_match_brute_force(history: list[Op]) -> None:
    assert check(history, "cas-register")["valid"] is brute_force(history)


def _has_cas_link(history: list[Op]) -> bool:
    swapped_in = {op.value[1] for op in history if op.f == "cas" and op.type == "ok"}
    return any(op.f == "cas" and op.type == "ok" and op.value[0] in swapped_in for op in history)


def _assert_witness_closed(
    calls: list[wgl.Call], fr: register_fastpath.FastResult, init: Any = None
) -> None:
    """Each value a witness op observes is written inside the witness (or is init, or written
    nowhere at all), unless the op is a CAS checked as a plain write: only then does
    restricting a linearization of the history to the witness linearize the witness."""
    assert fr.witness is not None
    sub = register_fastpath.witness_calls(calls, fr)

    def written(cs: list[wgl.Call]) -> set[Any]:
        return {c.arg[1] if c.arg[0] == R_WRITE else c.arg[2] for c in cs if c.arg[0] != R_READ}

    inside, anywhere = written(sub), written(calls)
    for c in sub:
        if c.arg[0] != R_WRITE:
            assert c.arg[1] == init or c.arg[1] in inside or c.arg[1] not in anywhere, (c, sub)
    assert all(calls[i].arg[0] in (R_CAS, R_CAS_INFO) for i in fr.relaxed)


def _assert_screen_agrees(calls: list[wgl.Call], init: Any) -> None:
    """The one-pass screen says valid only where the full zone check does, and, without CAS,
    wherever it does; ``decide`` is then the full check's result, witness and all."""
    full = register_fastpath.decide_fully(calls, init)
    screened = register_fastpath.plainly_valid(calls, init)
    assert full.valid is True or not screened, calls
    if all(c.arg[0] in (R_READ, R_WRITE) for c in calls) and full.valid is not None:
        assert screened is (full.valid is True), calls
    assert register_fastpath.decide(calls, init) == (
        register_fastpath.FastResult(True) if screened else full
    )


def _assert_decided_by_fast_path(history: list[Op], expected: bool, init: Any = None) -> None:
    """The fast path decides every key itself, and ``check`` takes its verdict without a fallback."""
    model = resolve_model("cas-register", init)
    verdicts = []
    for kh in split(history, model):
        _assert_screen_agrees(kh.calls, model.init)
        fr = register_fastpath.decide(kh.calls, model.init)
        verdicts.append(fr.valid)
        if fr.valid is False:
            _assert_witness_closed(kh.calls, fr, model.init)
    assert verdicts in ([], [expected]), [o.to_dict() for o in history]
    result = check(history, "cas-register", init=init)
    assert result["valid"] is expected, [o.to_dict() for o in history]
    assert result["algorithm"] == ("unique-values" if verdicts else "none")
    if expected is False:
        assert result["counterexample"]["text"]


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cas_histories())
def test_cas_fast_path_matches_brute_force(history: list[Op]) -> None:
    expected = brute_force(history)
    event(f"linearizable: {expected}")
    event(f"CAS swapped in a CAS's value: {_has_cas_link(history)}")
    _assert_decided_by_fast_path(history, expected)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cas_histories(max_ops=30, max_workers=8))
def test_cas_fast_path_matches_search_on_larger_histories(history: list[Op]) -> None:
    model = resolve_model("cas-register", None)
    keys = split(history, model)
    expected = wgl.search(keys[0].calls, None, model.step).valid if keys else True
    _assert_decided_by_fast_path(history, expected)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cas_histories(max_ops=12, max_workers=5, init=0))
def test_cas_fast_path_with_a_null_value_matches_search(history: list[Op]) -> None:
    """Init 0, and null may be written: reads of null are then reads of an unknown value."""
    model = resolve_model("cas-register", 0)
    keys = split(history, model)
    expected = wgl.search(keys[0].calls, 0, model.step).valid if keys else True
    _assert_decided_by_fast_path(history, expected, init=0)


def test_fast_path_decides_read_write_histories() -> None:
    h = [
        Op("invoke", "write", 0, 1),
        Op("ok", "write", 0, 1),
        Op("invoke", "write", 1, 2),
        Op("ok", "write", 1, 2),
        Op("invoke", "read", 2, None),
        Op("ok", "read", 2, 1),
    ]
    result = check(h, "register")
    assert result["valid"] is False
    assert result["algorithm"] == "unique-values"
    cx = result["counterexample"]
    assert cx["op"]["f"] == "read" and cx["op"]["result"] == 1
    assert cx["state"] == 2
    assert [d["value"] for d in cx["linearized"]] == [1, 2]
    json.dumps(result)


# ---------------------------------------------------------------- models and results


def _ops(*rows: tuple[str, str, Any, Any]) -> list[Op]:
    return [Op(t, f, p, v, index=i) for i, (t, f, p, v) in enumerate(rows)]


def test_keys_are_checked_independently() -> None:
    h = [
        Op("invoke", "write", 0, 1, key="a"),
        Op("ok", "write", 0, 1, key="a"),
        Op("invoke", "read", 1, None, key="b"),
        Op("ok", "read", 1, 1, key="b"),
    ]
    result = check(h, "register")
    assert result["keys"] == 2
    assert result["valid"] is False
    assert result["counterexample"]["key"] == "b"


def test_indeterminate_write_may_happen_or_not() -> None:
    base = [("invoke", "write", 0, 1), ("info", "write", 0, None)]
    seen = _ops(*base, ("invoke", "read", 1, None), ("ok", "read", 1, 1))
    unseen = _ops(*base, ("invoke", "read", 1, None), ("ok", "read", 1, None))
    assert check(seen, "register")["valid"] is True
    assert check(unseen, "register")["valid"] is True
    failed = _ops(
        ("invoke", "write", 0, 1),
        ("fail", "write", 0, 1),
        ("invoke", "read", 1, None),
        ("ok", "read", 1, 1),
    )
    assert check(failed, "register")["valid"] is False


def test_mutex() -> None:
    ok = _ops(
        ("invoke", "acquire", 0, None),
        ("ok", "acquire", 0, None),
        ("invoke", "release", 0, None),
        ("ok", "release", 0, None),
        ("invoke", "acquire", 1, None),
        ("ok", "acquire", 1, None),
    )
    bad = _ops(
        ("invoke", "acquire", 0, None),
        ("ok", "acquire", 0, None),
        ("invoke", "acquire", 1, None),
        ("ok", "acquire", 1, None),
    )
    assert check(ok, "mutex")["valid"] is True
    result = check(bad, "mutex")
    assert result["valid"] is False
    assert result["counterexample"]["state"] == "acquired"


def test_queue_and_set() -> None:
    fifo = _ops(
        ("invoke", "enqueue", 0, 1),
        ("ok", "enqueue", 0, 1),
        ("invoke", "enqueue", 0, 2),
        ("ok", "enqueue", 0, 2),
        ("invoke", "dequeue", 1, None),
        ("ok", "dequeue", 1, 1),
    )
    lifo = _ops(
        ("invoke", "enqueue", 0, 1),
        ("ok", "enqueue", 0, 1),
        ("invoke", "enqueue", 0, 2),
        ("ok", "enqueue", 0, 2),
        ("invoke", "dequeue", 1, None),
        ("ok", "dequeue", 1, 2),
    )
    assert check(fifo, "queue")["valid"] is True
    assert check(lifo, "queue")["valid"] is False
    s_ok = _ops(
        ("invoke", "add", 0, 1),
        ("invoke", "read", 1, None),
        ("ok", "read", 1, [1]),
        ("ok", "add", 0, 1),
    )
    s_bad = _ops(
        ("invoke", "add", 0, 1),
        ("ok", "add", 0, 1),
        ("invoke", "read", 1, None),
        ("ok", "read", 1, []),
    )
    assert check(s_ok, "set")["valid"] is True
    assert check(s_bad, "set")["valid"] is False


def test_kv_and_multi_register() -> None:
    h = [
        Op("invoke", "put", 0, "a", key="k"),
        Op("ok", "put", 0, "a", key="k"),
        Op("invoke", "append", 0, "b", key="k"),
        Op("ok", "append", 0, "b", key="k"),
        Op("invoke", "get", 1, None, key="k"),
        Op("ok", "get", 1, "ab", key="k"),
    ]
    assert check(h, "kv", init="")["valid"] is True
    h[-1] = Op("ok", "get", 1, "ba", key="k")
    assert check(h, "kv", init="")["valid"] is False
    txn = _ops(
        ("invoke", "txn", 0, [["write", "x", 1], ["write", "y", 2]]),
        ("ok", "txn", 0, [["write", "x", 1], ["write", "y", 2]]),
        ("invoke", "txn", 1, [["read", "x", None], ["read", "y", None]]),
        ("ok", "txn", 1, [["read", "x", 1], ["read", "y", 0]]),
    )
    assert check(txn, "multi-register", init={"x": 0, "y": 0})["valid"] is False
    txn[-1] = Op("ok", "txn", 1, [["read", "x", 1], ["read", "y", 2]], index=3)
    assert check(txn, "multi-register", init={"x": 0, "y": 0})["valid"] is True


def _many_concurrent_writes(n: int) -> list[Op]:
    """n concurrent writes of three values, then reads of two of them one after the other,
    which no order explains: each read alone could follow some write, so only the search
    can refute it, and at a cost."""
    h = [Op("invoke", "write", p, p % 3) for p in range(n)]
    h += [Op("ok", "write", p, p % 3) for p in range(n)]
    for p in range(n):
        h += [Op("invoke", "read", 100 + p, None), Op("ok", "read", 100 + p, p % 2)]
    for i, op in enumerate(h):
        op.index = i
    return h


def test_timeout_gives_unknown() -> None:
    h = _many_concurrent_writes(40)
    result = check(h, "cas-register", timeout=0)
    assert result["valid"] == "unknown"
    assert result["unknown_reason"] == "timeout"


def test_memory_bound_gives_unknown() -> None:
    h = [Op("invoke", "write", p, p) for p in range(16)]
    h += [Op("ok", "write", p, p) for p in range(16)]
    h += [Op("invoke", "read", 99, None), Op("ok", "read", 99, 99)]
    h += [Op("invoke", "write", 98, 0), Op("ok", "write", 98, 0)]
    model = MODELS["cas-register"](None)
    from splitbrain.checkers.models import Model

    plain = Model("cas-register", model.init, model.prepare, model.step)
    result = check(h, plain, memory_limit_mb=1)
    assert result["valid"] == "unknown"
    assert result["unknown_reason"] == "memory"


def test_empty_history_and_nemesis_ops() -> None:
    assert check([], "cas-register")["valid"] is True
    h = [Op("invoke", "start", "nemesis", None), Op("info", "start", "nemesis", None)]
    result = check(h, "cas-register")
    assert result["keys"] == 0 and result["valid"] is True


def test_bad_input_is_a_model_input_error() -> None:
    with pytest.raises(ModelInputError, match="unknown model"):
        check([], "nope")
    with pytest.raises(ModelInputError, match="history entry 0"):
        check(_ops(("invoke", "frob", 0, None), ("ok", "frob", 0, None)), "register")


def test_protocol_model_object() -> None:
    class Counter:
        name = "counter"

        def init(self) -> int:
            return 0

        def step(self, state: int, f: str, value: Any, ok_value: Any) -> tuple[bool, int]:
            if f == "incr":
                return True, state + 1
            return ok_value is None or ok_value == state, state

    h = _ops(
        ("invoke", "incr", 0, None),
        ("ok", "incr", 0, None),
        ("invoke", "get", 1, None),
        ("ok", "get", 1, 0),
    )
    assert check(h, Counter())["valid"] is False


def test_parallel_workers_agree_with_serial() -> None:
    """Repeated values and a CAS keep the keys away from the fast paths (each read alone could
    follow some write), so spawned workers do the search."""
    h: list[Op] = []
    for k in range(4):
        h += [Op("invoke", "write", 0, 1, key=k), Op("invoke", "write", 1, 2, key=k)]
        h += [Op("invoke", "cas", 2, [1, 1], key=k)]
        h += [Op("ok", "write", 0, 1, key=k), Op("ok", "write", 1, 2, key=k)]
        h += [Op("ok", "cas", 2, [1, 1], key=k)]
        h += [Op("invoke", "read", 9, None, key=k), Op("ok", "read", 9, 1, key=k)]
        h += [Op("invoke", "read", 9, None, key=k), Op("ok", "read", 9, 1 + k % 2, key=k)]
    import splitbrain.checkers.linearizable as lin

    old = lin.PARALLEL_MIN_OPS
    lin.PARALLEL_MIN_OPS = 0
    try:
        par = check(h, "cas-register", workers=2)
    finally:
        lin.PARALLEL_MIN_OPS = old
    ser = check(h, "cas-register", workers=1)
    assert par["algorithm"] == "wgl"
    assert par["valid"] is ser["valid"] is False
    assert [f["key"] for f in par["failures"]] == [f["key"] for f in ser["failures"]] == [1, 3]


def _bench_module() -> Any:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_linearizable.py"
    spec = importlib.util.spec_from_file_location("bench_linearizable", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("stale", [False, True])
@pytest.mark.parametrize("cas_ratio", [0.0, 0.6])
def test_fast_path_agrees_on_generated_histories(seed: int, stale: bool, cas_ratio: float) -> None:
    """The benchmark's generator at a size the general search still decides."""
    gen = _bench_module().generate_register_history
    h = gen(
        600,
        4,
        1,
        seed=seed,
        info_ratio=0.02,
        stale_read_at=0.8 if stale else None,
        cas_ratio=cas_ratio,
    )
    model = resolve_model("cas-register", None)
    (kh,) = split(h, model)
    fast = register_fastpath.decide(kh.calls, model.init)
    slow = wgl.search(kh.calls, model.init, model.step, readonly=model.readonly, deadline=None)
    assert fast.valid is slow.valid is (not stale)


def _fast_and_check(h: list[Op]) -> tuple[register_fastpath.FastResult, dict[str, Any]]:
    model = resolve_model("cas-register", None)
    (kh,) = split(h, model)
    return register_fastpath.decide(kh.calls, model.init), check(h, "cas-register")


def test_cas_chains_that_meet_are_decided() -> None:
    """A write and a CAS from init overlap: only "CAS, then write" works. Placing ops inside
    their zones could not find that order; the chain zones decide it."""
    rows = [
        ("invoke", "write", 0, 1),
        ("invoke", "cas", 1, [None, 2]),
        ("invoke", "cas", 2, [None, 3]),
        ("ok", "write", 0, 1),
        ("ok", "cas", 1, [None, 2]),
        ("fail", "cas", 2, None),
    ]
    fr, result = _fast_and_check(_ops(*rows))
    assert fr.valid is True
    assert result["valid"] is True and result["algorithm"] == "unique-values"
    fr, result = _fast_and_check(_ops(*rows, ("invoke", "read", 3, None), ("ok", "read", 3, 2)))
    assert fr.valid is False
    assert result["valid"] is False and result["algorithm"] == "unique-values"
    assert result["counterexample"]["op"]["result"] == 2


def test_indeterminate_cas_counts_only_when_its_value_is_seen() -> None:
    base = [
        ("invoke", "write", 0, 1),
        ("ok", "write", 0, 1),
        ("invoke", "cas", 1, [1, 2]),
        ("info", "cas", 1, None),
        ("invoke", "cas", 2, [1, 3]),
        ("ok", "cas", 2, [1, 3]),
    ]
    fr, result = _fast_and_check(_ops(*base))
    assert fr.valid is True and result["valid"] is True
    seen = _ops(*base, ("invoke", "read", 3, None), ("ok", "read", 3, 2))
    fr, result = _fast_and_check(seen)
    assert fr.valid is False and "two CASes" in fr.reason
    assert fr.witness == [0, 1, 2, 3]
    assert result["valid"] is False and result["algorithm"] == "unique-values"


def test_witness_keeps_the_reads_that_force_indeterminate_cases() -> None:
    """A value no one wrote is swapped out by an indeterminate CAS whose effect is seen only
    through another indeterminate CAS: the witness needs the whole path to the read."""
    h = _ops(
        ("invoke", "cas", 0, [7, 2]),
        ("info", "cas", 0, None),
        ("invoke", "cas", 1, [2, 3]),
        ("info", "cas", 1, None),
        ("invoke", "read", 2, None),
        ("ok", "read", 2, 3),
    )
    fr, result = _fast_and_check(h)
    assert fr.valid is False and fr.witness == [0, 1, 2]
    assert result["valid"] is False and result["algorithm"] == "unique-values"


def test_indeterminate_write_of_null_is_kept_when_a_cas_from_it_is_seen() -> None:
    h = _ops(
        ("invoke", "write", 0, None),
        ("info", "write", 0, None),
        ("invoke", "cas", 1, [None, 5]),
        ("info", "cas", 1, None),
        ("invoke", "read", 2, None),
        ("ok", "read", 2, 5),
    )
    model = resolve_model("cas-register", 0)
    (kh,) = split(h, model)
    assert register_fastpath.decide(kh.calls, 0).valid is True
    assert check(h, "cas-register", init=0)["valid"] is True


def test_witness_checks_a_cas_mid_chain_as_a_write() -> None:
    """2 is read after 3, which a CAS swapped in from 2, was already read: a short witness."""
    h = _ops(
        ("invoke", "cas", 0, [None, 1]),
        ("ok", "cas", 0, [None, 1]),
        ("invoke", "cas", 0, [1, 2]),
        ("ok", "cas", 0, [1, 2]),
        ("invoke", "cas", 0, [2, 3]),
        ("ok", "cas", 0, [2, 3]),
        ("invoke", "read", 1, None),
        ("ok", "read", 1, 3),
        ("invoke", "read", 2, None),
        ("ok", "read", 2, 2),
    )
    fr, result = _fast_and_check(h)
    assert fr.valid is False
    assert fr.relaxed == [1] and fr.witness == [1, 2, 4]
    cx = result["counterexample"]
    assert result["algorithm"] == "unique-values"
    assert cx["op"]["result"] == 2 and cx["state"] == 3


def test_zone_proof_stands_when_the_witness_is_not_searched(monkeypatch: Any) -> None:
    import splitbrain.checkers.linearizable as lin

    h = _ops(
        ("invoke", "write", 0, 1),
        ("ok", "write", 0, 1),
        ("invoke", "cas", 0, [1, 2]),
        ("ok", "cas", 0, [1, 2]),
        ("invoke", "read", 1, None),
        ("ok", "read", 1, 1),
    )
    monkeypatch.setattr(lin, "MAX_WITNESS", 0)
    result = check(h, "cas-register")
    assert result["valid"] is False and result["algorithm"] == "unique-values"
    cx = result["counterexample"]
    assert cx["op"]["f"] == "read" and cx["op"]["result"] == 1
    assert cx["linearized"] == [] and "Zone check" in cx["text"]


def test_fast_path_decides_cas_heavy_single_key() -> None:
    """The case the zones alone once left to the search: 20 processes, 30% CAS, 20,000 ops."""
    gen = _bench_module().generate_register_history
    for stale in (False, True):
        h = gen(20_000, 20, 1, seed=7, cas_ratio=0.6, stale_read_at=0.9 if stale else None)
        result = check(h, "cas-register", timeout=120)
        assert result["valid"] is (not stale)
        assert result["algorithm"] == "unique-values"


def test_cyclic_cas_chain_terminates() -> None:
    h = _ops(
        ("invoke", "cas", 0, [1, 2]),
        ("invoke", "cas", 1, [2, 1]),
        ("ok", "cas", 0, [1, 2]),
        ("ok", "cas", 1, [2, 1]),
    )
    assert check(h, "cas-register", init=None)["valid"] is False
    assert check(h, "cas-register", init=1)["valid"] is True


# ---------------------------------------------------------------- repeated values


@st.composite
def repeated_histories(
    draw: st.DrawFn, max_ops: int = 8, max_workers: int = 4, cas: bool = False
) -> list[Op]:
    """A run of a register whose writes draw from two or three values, as a client records it.

    Each op takes effect (or not) at a drawn point of its interval; clients crash (``info``,
    or no completion); with a drawn rate a read lies (returns a value written some time),
    so both verdicts are common."""
    n = draw(st.integers(1, max_ops))
    workers = draw(st.integers(1, max_workers))
    values = draw(st.sampled_from([[1, 2], [1, 2, 3], [None, 1, 2]]))
    lie = draw(st.sampled_from([0, 15, 40]))
    fs = ["read", "read", "write", "write", "cas"] if cas else ["read", "read", "write"]

    def start(draw: st.DrawFn, started: int, state: Any, written: list[Any]) -> tuple[str, Any]:
        f = draw(st.sampled_from(fs))
        new = draw(st.sampled_from(values))
        return f, {"read": None, "write": new, "cas": [draw(st.sampled_from(values)), new]}[f]

    return _simulate(draw, n, workers, lie, None, start)


def _repeated_verdict(history: list[Op]) -> bool | None:
    model = resolve_model("cas-register", None)
    verdicts = {
        register_repeated.decide(kh.calls, model.init).valid for kh in split(history, model)
    }
    return verdicts.pop() if len(verdicts) == 1 else None


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(repeated_histories(cas=True))
def test_repeated_values_match_brute_force(history: list[Op]) -> None:
    """Whatever the refutation or the checked sweep decides is the brute force's verdict."""
    expected = brute_force(history)
    decided = _repeated_verdict(history)
    event(f"linearizable: {expected}; decided without the search: {decided is not None}")
    assert decided in (None, expected), [o.to_dict() for o in history]
    assert check(history, "cas-register")["valid"] is expected, [o.to_dict() for o in history]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(repeated_histories(max_ops=40, max_workers=8))
def test_repeated_values_match_search_on_larger_histories(history: list[Op]) -> None:
    model = resolve_model("cas-register", None)
    keys = split(history, model)
    if not keys:
        return
    expected = wgl.search(keys[0].calls, None, model.step, readonly=model.readonly).valid
    decided = register_repeated.decide(keys[0].calls, None).valid
    event(f"linearizable: {expected}; decided without the search: {decided is not None}")
    assert decided in (None, expected), [o.to_dict() for o in history]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("stale", [False, True])
@pytest.mark.parametrize("values", [3, 20])
def test_repeated_values_agree_on_generated_histories(seed: int, stale: bool, values: int) -> None:
    """The benchmark's generator, values from a range, at a size the general search decides."""
    gen = _bench_module().generate_register_history
    h = gen(
        600, 4, 1, seed=seed, info_ratio=0.02, stale_read_at=0.8 if stale else None, values=values
    )
    model = resolve_model("cas-register", None)
    (kh,) = split(h, model)
    fast = register_repeated.decide(kh.calls, model.init)
    slow = wgl.search(kh.calls, model.init, model.step, readonly=model.readonly)
    assert fast.valid in (None, slow.valid)
    assert check(h, "cas-register")["valid"] is slow.valid


def test_sweep_order_is_checked() -> None:
    """The check of a proposed order rejects real-time inversions, illegal reads and missing ops."""
    h = _ops(
        ("invoke", "write", 0, 1),
        ("ok", "write", 0, 1),
        ("invoke", "write", 1, 2),
        ("ok", "write", 1, 2),
        ("invoke", "read", 2, None),
        ("ok", "read", 2, 2),
    )
    model = resolve_model("register", None)
    (kh,) = split(h, model)
    assert register_repeated.is_linearization(kh.calls, None, [0, 1, 2])
    assert not register_repeated.is_linearization(kh.calls, None, [1, 0, 2])
    assert not register_repeated.is_linearization(kh.calls, None, [0, 2, 1])
    assert not register_repeated.is_linearization(kh.calls, None, [0, 1])
    assert not register_repeated.is_linearization(kh.calls, None, [0, 1, 1, 2])


def test_stale_read_of_a_repeated_value_is_refuted_with_a_witness() -> None:
    h = _ops(
        ("invoke", "write", 0, 1),
        ("ok", "write", 0, 1),
        ("invoke", "write", 0, 2),
        ("ok", "write", 0, 2),
        ("invoke", "write", 0, 1),
        ("ok", "write", 0, 1),
        ("invoke", "write", 0, 2),
        ("ok", "write", 0, 2),
        ("invoke", "read", 1, None),
        ("ok", "read", 1, 1),
    )
    result = check(h, "register")
    assert result["valid"] is False
    assert result["algorithm"] == "repeated-values"
    cx = result["counterexample"]
    assert cx["op"]["f"] == "read" and cx["op"]["result"] == 1
    assert cx["state"] == 2
    assert "Repeated-value check: 1 was observed after 2 overwrote" in cx["text"]
