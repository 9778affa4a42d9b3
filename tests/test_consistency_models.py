"""Sequential consistency, the session guarantees and causal consistency: hand histories whose
answers are argued in their comments, brute force on tiny histories, the implications between
the models on random histories, and the shared porcupine/Knossos fixtures."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from splitbrain.checkers import causal, linearizable, models, sequential, session
from splitbrain.checkers.models import ModelInputError
from splitbrain.harness.base.explain import explain
from splitbrain.harness.base.history import Op, read_history
from splitbrain.harness.engine import check as check_cli

SHARED = Path(__file__).resolve().parents[2] / "shared" / "histories"
GUARANTEES = session.GUARANTEES


def hist(*rows: tuple) -> list[Op]:
    """(process, f, value, result[, key[, type]]) per op: an invoke then its completion, in
    that order (ops do not overlap; real time is irrelevant to these models anyway)."""
    out: list[Op] = []
    for row in rows:
        p, f, value, result = row[:4]
        key = row[4] if len(row) > 4 else None
        typ = row[5] if len(row) > 5 else "ok"
        out.append(Op("invoke", f, p, value, key=key, index=len(out)))
        done = result if f in ("read", "get") else value
        out.append(Op(typ, f, p, done if typ == "ok" else None, key=key, index=len(out)))
    return out


def verdicts(h: list[Op]) -> dict[str, Any]:
    out: dict[str, Any] = {g: session.check(h, g)["valid"] for g in GUARANTEES}
    out["sequential"] = sequential.check(h)["valid"]
    out["linearizable"] = linearizable.check(h, "cas-register")["valid"]
    out["causal"] = causal.check(h)["valid"]
    return out


# ---------------------------------------------------------------- sequential: hand histories


def test_stale_read_is_sequential_not_linearizable() -> None:
    # p0's write completes before p1's read begins, yet p1 reads the initial value: real
    # time forbids it, but ordering p1's read first respects both processes.
    h = hist((0, "write", 1, None), (1, "read", None, None))
    assert linearizable.check(h, "register")["valid"] is False
    r = sequential.check(h, "register")
    assert r["valid"] is True and r["consistency"] == "sequential" and r["failures"] == []


def test_two_processes_each_reading_the_others_write_is_not_sequential() -> None:
    # p0: w1 then r->2; p1: w2 then r->1. r->2 needs w2 after w1, r->1 needs w1 after w2.
    h = hist(
        (0, "write", 1, None),
        (1, "write", 2, None),
        (0, "read", None, 2),
        (1, "read", None, 1),
    )
    r = sequential.check(h, "register", shortcuts=False)
    assert r["valid"] is False
    v = r["violation"]
    assert v["prefix_end"] == 7  # the last completion: without it p0's read of 2 is fine
    assert v["minimal"] is True
    assert v["processes"] == [0, 1]
    assert [(o["process"], o["f"]) for o in v["ops"]] == [
        (0, "write"),
        (1, "write"),
        (0, "read"),
        (1, "read"),
    ]
    assert v["op"]["process"] == 1 and v["op"]["result"] == 1
    lines = explain(r)
    assert lines[0].startswith("not sequentially consistent once history entry 7 completed")
    assert "processes 0, 1 cannot be ordered together" in lines[1]


def test_the_smallest_failing_prefix_and_a_minimal_core() -> None:
    # p0 reads its own write back as the initial value at history 5; everything after is
    # noise that is itself fine (p1 and p2 write and read their own values).
    h = hist(
        (1, "write", 5, None),
        (0, "write", 1, None),
        (0, "read", None, None),
        (2, "write", 7, None),
        (2, "read", None, 7),
        (1, "read", None, 5),
    )
    r = sequential.check(h, "register", shortcuts=False)
    assert r["valid"] is False
    v = r["violation"]
    assert v["prefix_end"] == 5
    assert [(o["process"], o["f"], o["value"], o["result"]) for o in v["ops"]] == [
        (0, "write", 1, 1),
        (0, "read", None, None),
    ]


def test_crashed_ops_may_happen_anywhere_after_their_process_or_never() -> None:
    # p1's crashed write of 1 may have happened: p0's read of 1 is explained.
    h = hist((1, "write", 1, None, None, "info"), (0, "read", None, 1))
    assert sequential.check(h, "register")["valid"] is True
    # a failed write certainly did not happen
    h = hist((1, "write", 1, None, None, "fail"), (0, "read", None, 1))
    assert sequential.check(h, "register")["valid"] is False
    # p0 read 1 and only then crashed writing 1: its own later write cannot explain its read
    h = hist((0, "read", None, 1), (0, "write", 1, None, None, "info"))
    assert sequential.check(h, "register", shortcuts=False)["valid"] is False
    # ... and a crashed write that never happened leaves the register alone: p0 reads null
    h = hist((1, "write", 1, None, None, "info"), (0, "read", None, None))
    assert sequential.check(h, "register")["valid"] is True


def test_kv_is_checked_per_key_and_says_so() -> None:
    # Each key alone is sequential, the pair is not (p0 sees y's write but not x's, which p1
    # made first): sequential consistency is not compositional, per-key is what is decided.
    h = hist(
        (1, "put", "a", None, "x"),
        (1, "put", "b", None, "y"),
        (0, "get", None, "b", "y"),
        (0, "get", None, "", "x"),
    )
    r = sequential.check(h)
    assert r["model"] == "kv" and r["consistency"] == "per-key sequential" and r["keys"] == 2
    assert r["valid"] is True
    assert causal.check(h)["valid"] is False


def _hard(n: int) -> list[Op]:
    """Every process reads the next one's value after writing its own: no order exists, and
    the search must try the interleavings of n processes to find that out."""
    rows: list[tuple] = [(p, "write", p, None) for p in range(n)]
    rows += [(p, "read", None, (p + 1) % n) for p in range(n)]
    rows += [(p, "read", None, p) for p in range(n)]
    return hist(*rows)


def test_unknown_when_out_of_time_or_memory_never_a_guess() -> None:
    h = _hard(9)
    r = sequential.check(h, "register", timeout=0.0, shortcuts=False)
    assert r["valid"] == "unknown" and r["unknown_reason"] == "timeout"
    assert r["failures"] == []
    r = sequential.check(h, "register", memory_limit_mb=1, shortcuts=False)
    assert r["valid"] == "unknown" and r["unknown_reason"] == "memory"
    assert "ran out of memory" in explain(r)[0]
    assert sequential.check(_hard(3), "register", shortcuts=False)["valid"] is False
    # what the search cannot settle, the causal refutation can: sequential implies causal
    r = sequential.check(h, "register", memory_limit_mb=1)
    assert r["valid"] is False
    assert r["violation"]["refuted_by"] == "causal convergence (CCv): CyclicCF"
    assert "not sequentially consistent: a sequential order would also be causally" in explain(r)[0]


def test_the_causal_refutation_uses_the_model_own_initial_value() -> None:
    # a register that starts at 0: reading 0 is no thin-air read
    h = hist((0, "read", None, 0), (1, "write", 1, None), (0, "read", None, 1))
    assert sequential.check(h, models.register(0))["valid"] is True
    assert sequential.check(h, "register", init=0)["valid"] is True
    assert sequential.check(h, "register")["valid"] is False


def test_sequential_refuses_a_history_without_a_data_type() -> None:
    h = hist((0, "enqueue", 1, None))
    with pytest.raises(ModelInputError, match="cannot tell the data type"):
        sequential.check(h)
    assert sequential.check(h, "queue")["valid"] is True
    nemesis_only = [Op("info", "start", "nemesis", None, index=0)]
    r = sequential.check(nemesis_only)
    assert r["valid"] is True and "no client operations" in r["note"]


# ---------------------------------------------------------------- sequential: brute force


@dataclass(frozen=True)
class _BruteOp:
    f: str
    value: Any
    result: Any
    definite: bool


def _brute_sequential(h: list[Op]) -> bool:
    """Every interleaving of the processes' ops; an indeterminate write/CAS anywhere after
    its process's earlier ops, or never; indeterminate reads and failed ops left out."""
    pending: dict[Any, Op] = {}
    procs: dict[Any, list[_BruteOp]] = {}
    for op in h:
        if op.type == "invoke":
            pending[op.process] = op
            continue
        inv = pending.pop(op.process)
        if op.type == "fail" or (op.type == "info" and inv.f == "read"):
            continue
        procs.setdefault(op.process, []).append(
            _BruteOp(inv.f, inv.value, op.value, op.type == "ok")
        )
    for p, inv in pending.items():
        if inv.f != "read":
            procs.setdefault(p, []).append(_BruteOp(inv.f, inv.value, None, False))
    seqs = list(procs.values())

    def step(state: Any, o: _BruteOp) -> tuple[bool, Any]:
        if o.f == "read":
            return state == o.result, state
        if o.f == "write":
            return True, o.value
        old, new = o.value
        if state == old:
            return True, new
        return not o.definite, state

    def go(state: Any, pos: tuple[int, ...], floating: frozenset) -> bool:
        if all(pos[i] == len(s) for i, s in enumerate(seqs)):
            return True
        for i, s in enumerate(seqs):
            if pos[i] == len(s):
                continue
            o = s[pos[i]]
            nxt = pos[:i] + (pos[i] + 1,) + pos[i + 1 :]
            if not o.definite:
                if go(state, nxt, floating | {(i, pos[i])}):
                    return True
                continue
            ok, new = step(state, o)
            if ok and go(new, nxt, floating):
                return True
        for i, k in floating:
            ok, new = step(state, seqs[i][k])
            if ok and new != state and go(new, pos, floating - {(i, k)}):
                return True
        return False

    return go(None, tuple(0 for _ in seqs), frozenset())


SPEC = st.tuples(
    st.sampled_from(["read", "read", "write", "cas"]),
    st.sampled_from([1, 2, 3]),
    st.sampled_from([None, 1, 2, 3]),
    st.sampled_from(["ok"] * 5 + ["info", "fail"]),
)


@st.composite
def tiny_histories(draw: st.DrawFn, max_ops: int = 6) -> list[Op]:
    """A few processes' register ops in a random real-time interleaving; an info op retires
    its process (the next op of that worker is a new process)."""
    specs = draw(st.lists(SPEC, min_size=1, max_size=max_ops))
    workers = draw(st.integers(1, 3))
    order = draw(st.permutations(list(range(len(specs)))))
    out: list[Op] = []
    proc = list(range(workers))
    fresh = workers
    for n, i in enumerate(order):
        f, v, other, typ = specs[i]
        w = n % workers
        value = [other, v] if f == "cas" else (None if f == "read" else v)
        out.append(Op("invoke", f, proc[w], value, index=len(out)))
        done = other if f == "read" else value
        out.append(Op(typ, f, proc[w], done if typ == "ok" else None, index=len(out)))
        if typ == "info":
            proc[w], fresh = fresh, fresh + 1
    return out


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(tiny_histories())
def test_sequential_matches_brute_force(h: list[Op]) -> None:
    expected = _brute_sequential(h)
    assert sequential.check(h, "cas-register", shortcuts=False)["valid"] is expected
    assert sequential.check(h, "cas-register")["valid"] is expected


# ---------------------------------------------------------------- session guarantees: hand


CASES = {
    # p0 wrote 1 and read the initial value back.
    "ryw-initial": (
        hist((0, "write", 1, None), (0, "read", None, None)),
        {"read-your-writes"},
    ),
    # p0 wrote 1, 2; read 1 (so 2 before 1 in its view), then 2 (so 1 before 2). Its reads
    # observe 1 and then 2, in the order they were written: monotonic writes holds.
    "ryw-cycle": (
        hist(
            (0, "write", 1, None), (0, "write", 2, None), (0, "read", None, 1), (0, "read", None, 2)
        ),
        {"read-your-writes"},
    ),
    # p0 reads 1, 2, 1 of two other writers: back to a version it had left.
    "mr-a-b-a": (
        hist(
            (1, "write", 1, None), (2, "write", 2, None), *[(0, "read", None, v) for v in (1, 2, 1)]
        ),
        {"monotonic-reads"},
    ),
    # p0 reads 1 then the initial value.
    "mr-initial": (
        hist((1, "write", 1, None), (0, "read", None, 1), (0, "read", None, None)),
        {"monotonic-reads"},
    ),
    # p1 writes x then y; p0 sees y's write and then x's initial value.
    "mw-two-keys": (
        hist(
            (1, "write", 1, None, "x"),
            (1, "write", 2, None, "y"),
            (0, "read", None, 2, "y"),
            (0, "read", None, None, "x"),
        ),
        {"monotonic-writes"},
    ),
    # p1 writes 1 then 2 on one key; p0 observes 2, then 1.
    "mw-one-key": (
        hist(
            (1, "write", 1, None), (1, "write", 2, None), (0, "read", None, 2), (0, "read", None, 1)
        ),
        {"monotonic-writes"},
    ),
    # p2 read x=1 and then wrote y=2; p0 sees y=2 and then x's initial value.
    "wfr": (
        hist(
            (1, "write", 1, None, "x"),
            (2, "read", None, 1, "x"),
            (2, "write", 2, None, "y"),
            (0, "read", None, 2, "y"),
            (0, "read", None, None, "x"),
        ),
        {"writes-follow-reads"},
    ),
    # as "wfr", through a third process that read y=2 and wrote z=3
    "wfr-chain": (
        hist(
            (1, "write", 1, None, "x"),
            (2, "read", None, 1, "x"),
            (2, "write", 2, None, "y"),
            (3, "read", None, 2, "y"),
            (3, "write", 3, None, "z"),
            (0, "read", None, 3, "z"),
            (0, "read", None, None, "x"),
        ),
        {"writes-follow-reads"},
    ),
    # stale but monotonic reads of other processes' writes, own writes read back
    "fine": (
        hist(
            (0, "write", 1, None),
            (1, "read", None, None),
            (1, "read", None, 1),
            (0, "read", None, 1),
            (1, "write", 2, None),
            (1, "read", None, 2),
        ),
        set(),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_session_guarantees_on_hand_histories(name: str) -> None:
    h, violated = CASES[name]
    for g in GUARANTEES:
        r = session.check(h, g)
        json.dumps(r)
        assert r["valid"] is (g not in violated), (name, g, r)
        if g in violated:
            v = r["violation"]
            assert v["guarantee"] == g and v["ops"] and v["text"]
            lines = explain(r)
            assert lines[0].startswith(f"{g} is violated ({v['kind']})")
            assert v["text"] in "\n".join(line.strip() for line in lines)


def test_session_violation_names_the_session_and_ops() -> None:
    h, _ = CASES["mw-two-keys"]
    v = session.monotonic_writes(h)["violation"]
    assert v["process"] == 0 and v["key"] == "x" and v["kind"] == "observed-out-of-order"
    assert [(o["process"], o["f"], o["invoke_index"]) for o in v["ops"]] == [
        (1, "write", 0),
        (1, "write", 2),
        (0, "read", 4),
        (0, "read", 6),
    ]


def test_a_retired_process_successor_is_a_new_session() -> None:
    # Process 0 crashed writing 1 (info), its worker goes on as process 5 and reads null:
    # a new session owes nothing to process 0's write.
    h = hist((0, "write", 1, None, None, "info"), (5, "read", None, None))
    assert session.read_your_writes(h)["valid"] is True
    # the same reads in one session are a violation of monotonic reads
    h = hist((1, "write", 1, None), (0, "read", None, 1), (5, "read", None, None))
    assert session.monotonic_reads(h)["valid"] is True
    h = hist((1, "write", 1, None), (0, "read", None, 1), (0, "read", None, None))
    assert session.monotonic_reads(h)["valid"] is False


def test_thin_air_reads_fail_every_guarantee() -> None:
    h = hist((0, "write", 1, None, None, "fail"), (1, "read", None, 1))
    for g in GUARANTEES:
        r = session.check(h, g)
        assert r["valid"] is False and r["violation"]["kind"] == "thin-air"


def test_repeated_values_are_decided_where_exact_and_unknown_otherwise() -> None:
    # 1 is written twice: reading 1, 2, 1 can be two different versions of 1.
    h = hist(
        (1, "write", 1, None),
        (2, "write", 2, None),
        (3, "write", 1, None),
        *[(0, "read", None, v) for v in (1, 2, 1)],
    )
    assert session.monotonic_reads(h)["valid"] is True
    # a third return to 1 needs a third write of it
    h2 = [*h, *hist(*[(0, "read", None, v) for v in (2, 1)])]
    for i, op in enumerate(h2):
        op.index = i
    assert session.monotonic_reads(h2)["valid"] is False
    # which write of 1 p0 saw decides monotonic writes: no guess
    with pytest.raises(ModelInputError, match="decided only for histories whose written"):
        session.monotonic_writes(h)
    # a read of a value another session also wrote constrains no own write
    h = hist(
        (0, "write", 1, None), (1, "write", 2, None), (2, "write", 2, None), (0, "read", None, 2)
    )
    assert session.read_your_writes(h)["valid"] is True


def test_session_checks_refuse_appends_and_other_types() -> None:
    with pytest.raises(ModelInputError, match="append"):
        session.read_your_writes(hist((0, "append", "x", None, "k")))
    with pytest.raises(ModelInputError, match="enqueue"):
        session.monotonic_reads(hist((0, "enqueue", 1, None)))


# ---------------------------------------------------------------- causal: hand histories


def test_causal_bad_patterns() -> None:
    cases = {
        "WriteCOInitRead": CASES["mw-two-keys"][0],
        "WriteCORead": hist(
            (1, "write", 1, None, "x"),
            (1, "write", 2, None, "x"),
            (1, "write", 3, None, "y"),
            (0, "read", None, 3, "y"),
            (0, "read", None, 1, "x"),
        ),
        "CyclicCO": hist(
            (0, "read", None, 2, "x"),
            (0, "write", 1, None, "y"),
            (1, "read", None, 1, "y"),
            (1, "write", 2, None, "x"),
        ),
        "ThinAirRead": hist((0, "read", None, 9)),
    }
    for pattern, h in cases.items():
        r = causal.check(h)
        assert r["valid"] is False and r["cc"] is False, pattern
        assert r["bad_patterns"][0] == pattern and r["violation"]["pattern"] == pattern
        assert causal.check(h, variant="CC")["valid"] is False
        assert explain(r)[0] == f"causal convergence (CCv) is violated ({pattern}):"
    # two processes see two concurrent writes in opposite orders: weakly causal, but no one
    # arbitration order explains both (CCv's CyclicCF)
    h = hist(
        (1, "write", 1, None),
        (2, "write", 2, None),
        (3, "read", None, 1),
        (3, "read", None, 2),
        (4, "read", None, 2),
        (4, "read", None, 1),
    )
    r = causal.check(h)
    assert r["valid"] is False and r["cc"] is True and r["bad_patterns"] == ["CyclicCF"]
    assert [o["process"] for o in r["violation"]["ops"]] == [1, 2, 3, 4]
    assert "process 3 read 2" in r["violation"]["text"]
    assert causal.check(h, variant="CC")["valid"] is True
    assert causal.check(CASES["fine"][0])["valid"] is True


def test_causal_refuses_repeated_values() -> None:
    h = hist((0, "write", 1, None), (1, "write", 1, None))
    with pytest.raises(ModelInputError, match="written 2 times"):
        causal.check(h)


# ---------------------------------------------------------------- implications


@st.composite
def keyed_histories(draw: st.DrawFn, max_ops: int = 8, keys: int = 2) -> list[Op]:
    """Unique writes, reads of any written value (or the initial one) of their key, ok or
    crashed, in a random real-time interleaving with overlaps."""
    n = draw(st.integers(1, max_ops))
    written: dict[str, list[Any]] = {}
    specs = []
    for i in range(n):
        k = draw(st.sampled_from(["x", "y"][:keys]))
        f = draw(st.sampled_from(["read", "read", "write"]))
        typ = draw(st.sampled_from(["ok"] * 6 + ["info"]))
        if f == "write":
            written.setdefault(k, []).append(i + 1)
            specs.append((f, k, i + 1, None, typ))
        else:
            specs.append((f, k, None, draw(st.sampled_from([None, *written.get(k, [])])), typ))
    workers = draw(st.integers(1, 3))
    events = draw(st.permutations([(i, e) for i in range(n) for e in (0, 1)]))
    started: set[int] = set()
    out: list[Op] = []
    proc = {i: i % workers for i in range(n)}
    for i, e in events:
        if e == 1 and i not in started:
            continue
        f, k, v, res, typ = specs[i]
        if e == 0:
            started.add(i)
            out.append(Op("invoke", f, proc[i], v, key=k, index=len(out)))
        else:
            out.append(
                Op(
                    typ,
                    f,
                    proc[i],
                    (res if f == "read" else v) if typ == "ok" else None,
                    key=k,
                    index=len(out),
                )
            )
    return _sessions_serial(out)


def _sessions_serial(h: list[Op]) -> list[Op]:
    """Give each process one op at a time: a process with an op open gets a fresh number for
    its next invoke (as a worker whose op was cut off), so sessions stay sequential."""
    open_: dict[Any, bool] = {}
    rename: dict[Any, Any] = {}
    fresh = 100
    out = []
    for op in h:
        p = rename.get(op.process, op.process)
        if op.type == "invoke":
            if open_.get(p):
                rename[op.process] = p = fresh
                fresh += 1
            open_[p] = True
        else:
            open_[p] = False
        out.append(Op(op.type, op.f, p, op.value, key=op.key, index=len(out)))
    assume(_paired_by_f(out))
    return out


def _paired_by_f(h: list[Op]) -> bool:
    """Every completion answers its process's open invoke of the same f: a renamed process
    must not receive the completion of the op its old number left open."""
    open_: dict[Any, str] = {}
    for op in h:
        if op.type == "invoke":
            open_[op.process] = op.f
        elif open_.pop(op.process, op.f) != op.f:
            return False
    return True


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(keyed_histories(keys=1))
def test_implications_on_one_key(h: list[Op]) -> None:
    v = verdicts(h)
    # the causal refutation and the linearization search never change the search's answer
    assert sequential.check(h, shortcuts=False)["valid"] == v["sequential"]
    if v["linearizable"] is True:
        assert v["sequential"] is True, v
    if v["sequential"] is True:
        assert all(v[g] is True for g in GUARANTEES), v
        assert v["causal"] is True, v
    if v["causal"] is True:
        assert all(v[g] is True for g in GUARANTEES), v


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(keyed_histories(keys=2))
def test_implications_across_keys(h: list[Op]) -> None:
    """Linearizability composes, so it implies causal consistency and every guarantee across
    keys; per-key sequential does not (see test_kv_is_checked_per_key_and_says_so), but it
    still implies the per-key guarantees (read-your-writes, monotonic reads)."""
    v = verdicts(h)
    if v["linearizable"] is True:
        assert v["sequential"] is True and v["causal"] is True, v
    if v["sequential"] is True:
        assert v["read-your-writes"] is True and v["monotonic-reads"] is True, v
    if v["causal"] is True:
        assert all(v[g] is True for g in GUARANTEES), v
    if causal.check(h)["cc"] is False:
        assert v["causal"] is False


# ---------------------------------------------------------------- shared fixtures and the CLI


def _linearizable_cases() -> list[dict[str, Any]]:
    if not (SHARED / "verdicts.json").is_file():
        return []
    cases = json.loads((SHARED / "verdicts.json").read_text())["cases"]
    return [
        c
        for c in cases
        if c["expected"] is True
        and c["model"].split()[0] in ("cas-register", "kv", "multi-register")
    ]


@pytest.mark.skipif(not _linearizable_cases(), reason="../shared/histories not found")
def test_linearizable_fixtures_are_sequential_and_keep_the_session_guarantees() -> None:
    decided = 0
    for case in _linearizable_cases():
        ops = read_history(SHARED / case["file"]).ops
        model = case["model"].split()[0]
        r = sequential.check(ops, model, init=case.get("init"), timeout=2)
        assert r["valid"] in (True, "unknown"), case["file"]
        decided += r["valid"] is True
        if model != "cas-register":
            continue  # kv appends and multi-register transactions are no register writes
        for g in GUARANTEES:
            try:
                assert session.check(ops, g, init=case.get("init"))["valid"] is True, (
                    case["file"],
                    g,
                )
            except ModelInputError as e:  # values written twice that decide it: refused
                assert "written more than once" in str(e)
        try:
            assert causal.check(ops, init=case.get("init"))["valid"] is True, case["file"]
        except ModelInputError as e:
            assert "written" in str(e)
    assert decided >= len(_linearizable_cases()) - 3


@pytest.mark.skipif(not _linearizable_cases(), reason="../shared/histories not found")
def test_the_search_alone_never_contradicts_a_linearizable_fixture() -> None:
    small = [c for c in _linearizable_cases() if (SHARED / c["file"]).stat().st_size < 12_000][:40]
    for case in small:
        ops = read_history(SHARED / case["file"]).ops
        r = sequential.check(
            ops,
            case["model"].split()[0],
            init=case.get("init"),
            timeout=0.3,
            shortcuts=False,
        )
        assert r["valid"] in (True, "unknown"), case["file"]


def test_registered_for_splitbrain_check(tmp_path: Path) -> None:
    h, _ = CASES["mw-two-keys"]
    path = tmp_path / "h.jsonl"
    path.write_text("".join(op.to_json() + "\n" for op in h))
    got = {}
    for name in ("sequential", *GUARANTEES, "causal"):
        fn = check_cli.resolve_model(name)
        got[name] = check_cli.check_file(path, fn, timeout=5).valid
    assert got == {
        "sequential": True,
        "read-your-writes": True,
        "monotonic-reads": True,
        "monotonic-writes": False,
        "writes-follow-reads": True,
        "causal": False,
    }
    assert set(check_cli.models()) >= set(got)


def test_causal_out_of_time_is_unknown_never_a_verdict() -> None:
    h = hist(
        (0, "write", 1, None), (1, "read", None, 1), (1, "write", 2, None), (0, "read", None, 2)
    )
    assert causal.check(h)["valid"] is True
    r = causal.check(h, timeout=0)
    assert r["valid"] == "unknown" and r["unknown_reason"] == "timeout"


def test_a_crashed_write_precedes_none_of_its_sessions_later_ops() -> None:
    # Found by test_implications_on_one_key: linearizable (the crashed write took effect
    # after the nil read), so causal too.
    h = hist((0, "write", 1, None, None, "info"), (0, "read", None, None), (0, "read", None, 1))
    assert linearizable.check(h, models.plain_register())["valid"] is True
    assert causal.check(h)["valid"] is True
