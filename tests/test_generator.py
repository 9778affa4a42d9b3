"""Pure generators: same contexts in, same operations out."""

from __future__ import annotations

import random

from splitbrain.harness.base import generator as g
from splitbrain.harness.base.generator import NANOS, Context, Invocation, Pending


def ctx(
    time: int = 0, worker: int = 0, workers: int = 1, in_flight: int = 0, seed: int = 1
) -> Context:
    return Context(time, worker, workers, in_flight, random.Random(seed))


def reads() -> g.Repeat:
    return g.Repeat(lambda c: Invocation("read", None, c.rng.randrange(10)))


def take(gen: g.Generator | None, n: int, c: Context) -> list:
    out = []
    while gen is not None and len(out) < n:
        inv, gen = gen.op(c)
        if inv is None:
            break
        out.append(inv)
    return out


def test_generators_are_immutable_values() -> None:
    gen = g.limit(3, g.seq([Invocation("a"), Invocation("b"), Invocation("c"), Invocation("d")]))
    first, rest = gen.op(ctx())
    again, _ = gen.op(ctx())
    assert first == again == Invocation("a")
    assert [i.f for i in take(rest, 10, ctx())] == ["b", "c"]


def test_same_seed_same_ops() -> None:
    gen = g.mix(reads(), g.Repeat(lambda c: Invocation("write", c.rng.random())))
    assert take(gen, 50, ctx(seed=7)) == take(gen, 50, ctx(seed=7))
    assert take(gen, 50, ctx(seed=7)) != take(gen, 50, ctx(seed=8))


def test_mix_drops_exhausted_generators() -> None:
    gen = g.mix(g.once("a"), g.limit(3, g.Repeat(lambda c: Invocation("b"))))
    fs = [i.f for i in take(gen, 10, ctx())]
    assert sorted(fs) == ["a", "b", "b", "b"]


def test_time_limit_starts_on_first_ask() -> None:
    gen = g.time_limit(2, reads())
    inv, gen = gen.op(ctx(time=5 * NANOS))
    assert isinstance(inv, Invocation)
    inv, gen = gen.op(ctx(time=6 * NANOS))
    assert isinstance(inv, Invocation)
    inv, _ = gen.op(ctx(time=7 * NANOS))
    assert inv is None


def test_stagger_spaces_ops_on_average() -> None:
    gen = g.rate(100, reads())
    times = [i.time for i in take(gen, 2000, ctx())]
    assert times == sorted(times)
    mean_gap = (times[-1] - times[0]) / (len(times) - 1)
    assert 0.008 * NANOS < mean_gap < 0.012 * NANOS


def test_rate_zero_is_unthrottled() -> None:
    assert all(i.time is None for i in take(g.rate(0, reads()), 10, ctx()))


def test_phases_wait_for_in_flight_ops() -> None:
    gen = g.phases(g.once("main"), g.once("final"))
    inv, gen = gen.op(ctx())
    assert inv == Invocation("main")
    inv, gen = gen.op(ctx(in_flight=1))
    assert isinstance(inv, Pending)
    inv, gen = gen.op(ctx(in_flight=0))
    assert inv == Invocation("final")
    assert gen is None or gen.op(ctx())[0] is None


def test_each_worker_gets_its_own_copy() -> None:
    gen = g.each_worker(g.seq([Invocation("r1"), Invocation("r2")]))
    seen = []
    for step in range(8):
        inv, gen = gen.op(ctx(worker=step % 2, workers=2))
        if inv is None:
            break
        if isinstance(inv, Invocation):
            seen.append((step % 2, inv.f))
    assert sorted(seen) == [(0, "r1"), (0, "r2"), (1, "r1"), (1, "r2")]


def test_sleep_is_pending_until_deadline() -> None:
    gen = g.sleep(1.0)
    inv, gen = gen.op(ctx(time=0))
    assert inv == Pending(NANOS)
    inv, _ = gen.op(ctx(time=NANOS))
    assert inv is None


def test_cycle_is_bounded() -> None:
    gen = g.cycle([g.once("start"), g.once("stop")], times=3)
    assert [i.f for i in take(gen, 100, ctx())] == ["start", "stop"] * 3


def test_delay_spaces_ops_exactly() -> None:
    times = [i.time for i in take(g.delay(0.5, reads()), 4, ctx(time=NANOS))]
    assert times == [NANOS, NANOS + NANOS // 2, 2 * NANOS, 2 * NANOS + NANOS // 2]


def test_a_late_ask_costs_the_rate_nothing() -> None:
    """The second op is asked for 5 ms after it was due (its worker woke late): it starts at
    once, and the ops after it are back on the 10 ms grid (Jepsen's rate is one overall),
    where a schedule counted from each ask would drift to 25, 35, ..."""
    gen = g.delay(0.01, reads())
    first, gen = gen.op(ctx(time=0))
    ms = NANOS // 1000
    times = [first.time] + [i.time for i in take(gen, 4, ctx(time=15 * ms))]
    assert times == [0, 15 * ms, 20 * ms, 30 * ms, 40 * ms]


def test_a_stall_is_not_followed_by_a_burst_of_its_missed_ops() -> None:
    gen: g.Generator | None = g.delay(0.01, reads())
    inv, gen = gen.op(ctx(time=0))
    stalled = 10 * NANOS
    times = []
    for _ in range(40):
        assert gen is not None
        inv, gen = gen.op(ctx(time=stalled))
        times.append(inv.time)
    caught_up = sum(t == stalled for t in times)
    assert caught_up == g.CATCH_UP_NS // (NANOS // 100) + 1
    assert times[caught_up:] == [stalled + k * NANOS // 100 for k in range(1, 41 - caught_up)]


def test_keyed_keeps_independent_state_per_key() -> None:
    counters = g.keyed(
        ["a", "b", "c"], lambda key: g.seq([Invocation("write", n) for n in range(3)])
    )
    ops = take(counters, 100, ctx())
    assert len(ops) == 9
    for key in "abc":
        assert [o.value for o in ops if o.key == key] == [0, 1, 2]
    assert [o.key for o in ops] != sorted(o.key for o in ops), "keys interleave"
