"""Pure operation generators, in the manner of Jepsen's ``jepsen.generator``.

A generator is an immutable value. Asked for an operation with ``op(ctx)``, it returns the
next invocation (or ``PENDING``, or ``None`` when it is exhausted) together with the
generator that continues after it. Generators keep no clocks and start no threads: time
and randomness come from the ``Context`` the interpreter passes in, so the same seed and
the same sequence of contexts give the same operations, in real or in virtual time.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

NANOS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Invocation:
    """What a generator asks a worker to do. ``time`` (ns since run start) is the earliest start."""

    f: str
    value: Any = None
    key: Any = None
    time: int | None = None


@dataclass(frozen=True, slots=True)
class Pending:
    """Nothing to do now; ask again at ``until`` (ns) or when an op completes."""

    until: int | None = None


PENDING = Pending()


@dataclass(frozen=True, slots=True)
class Context:
    time: int
    """Nanoseconds since the run began."""
    worker: int
    """The asking worker, 0 .. workers-1."""
    workers: int
    in_flight: int
    """Operations invoked and not yet completed, across all workers."""
    rng: random.Random


Result = tuple["Invocation | Pending | None", "Generator | None"]


class Generator(Protocol):
    def op(self, ctx: Context) -> Result: ...


# ---------------------------------------------------------------- sources


@dataclass(frozen=True, slots=True)
class Once:
    """A single invocation."""

    invocation: Invocation

    def op(self, ctx: Context) -> Result:
        return self.invocation, None


@dataclass(frozen=True, slots=True)
class Seq:
    """The given invocations, in order."""

    items: tuple[Invocation, ...]
    at: int = 0

    def op(self, ctx: Context) -> Result:
        if self.at >= len(self.items):
            return None, None
        return self.items[self.at], Seq(self.items, self.at + 1)


@dataclass(frozen=True, slots=True)
class Repeat:
    """An endless stream from a pure function of the context."""

    make: Callable[[Context], Invocation]

    def op(self, ctx: Context) -> Result:
        return self.make(ctx), self


@dataclass(frozen=True, slots=True)
class Idle:
    """Never emits: pending for ever (bounded by a time limit, it is a sleep)."""

    def op(self, ctx: Context) -> Result:
        return PENDING, self


# ---------------------------------------------------------------- combinators


@dataclass(frozen=True, slots=True)
class Mix:
    """Each op comes from one of the generators chosen at random; exhausted ones drop out."""

    gens: tuple[Generator, ...]
    weights: tuple[float, ...] | None = None

    def op(self, ctx: Context) -> Result:
        gens = list(self.gens)
        weights = list(self.weights) if self.weights else [1.0] * len(gens)
        while gens:
            i = ctx.rng.choices(range(len(gens)), weights)[0]
            inv, nxt = gens[i].op(ctx)
            if inv is None:
                del gens[i], weights[i]
                continue
            if nxt is None:
                del gens[i], weights[i]
            else:
                gens[i] = nxt
            if not gens:
                return inv, None
            return inv, Mix(tuple(gens), tuple(weights))
        return None, None


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``n`` invocations."""

    n: int
    gen: Generator

    def op(self, ctx: Context) -> Result:
        if self.n <= 0:
            return None, None
        inv, nxt = self.gen.op(ctx)
        if inv is None:
            return None, None
        if isinstance(inv, Pending):
            return inv, Limit(self.n, nxt) if nxt is not None else None
        if nxt is None or self.n == 1:
            return inv, None
        return inv, Limit(self.n - 1, nxt)


@dataclass(frozen=True, slots=True)
class TimeLimit:
    """Stops emitting ``seconds`` after it is first asked."""

    seconds: float
    gen: Generator
    deadline: int | None = None

    def op(self, ctx: Context) -> Result:
        deadline = (
            self.deadline if self.deadline is not None else ctx.time + int(self.seconds * NANOS)
        )
        if ctx.time >= deadline:
            return None, None
        inv, nxt = self.gen.op(ctx)
        if inv is None:
            return None, None
        if isinstance(inv, Invocation) and inv.time is not None and inv.time >= deadline:
            return None, None
        if isinstance(inv, Pending) and (inv.until is None or inv.until > deadline):
            inv = Pending(deadline)
        return inv, TimeLimit(self.seconds, nxt, deadline) if nxt is not None else None


CATCH_UP_NS = NANOS // 10
"""How far a spaced schedule may fall behind before it forgets the rest of its debt."""


@dataclass(frozen=True, slots=True)
class Spaced:
    """Spaces invocations ``gap(rng)`` nanoseconds apart, across all workers, on a schedule
    of their own: the next op is due one gap after the last one was due, not after it was
    asked for, so a worker that asks late costs the rate nothing (the late op starts at
    once and the schedule catches up) as long as the workers keep up on average. A schedule
    more than ``catch_up`` behind (every worker busy, or the harness stalled) drops the
    older debt, so a stall is not followed by a burst of its missed ops."""

    gap: Callable[[random.Random], int]
    gen: Generator
    next_time: int | None = None
    catch_up: int = CATCH_UP_NS

    def op(self, ctx: Context) -> Result:
        inv, nxt = self.gen.op(ctx)
        if not isinstance(inv, Invocation):
            return inv, self._then(nxt, self.next_time)
        due = ctx.time if self.next_time is None else max(self.next_time, ctx.time - self.catch_up)
        at = max(ctx.time, due)
        return Invocation(inv.f, inv.value, inv.key, at), self._then(nxt, due + self.gap(ctx.rng))

    def _then(self, nxt: Generator | None, next_time: int | None) -> Spaced | None:
        return Spaced(self.gap, nxt, next_time, self.catch_up) if nxt is not None else None


@dataclass(frozen=True, slots=True)
class Phases:
    """Each generator in turn; the next begins only when every op of the last has completed."""

    gens: tuple[Generator, ...]

    def op(self, ctx: Context) -> Result:
        gens = self.gens
        while gens:
            inv, nxt = gens[0].op(ctx)
            if inv is not None:
                rest = ((nxt,) if nxt is not None else ()) + gens[1:]
                if nxt is None and len(gens) > 1:
                    rest = (_Barrier(),) + gens[1:]
                return inv, Phases(rest) if rest else None
            gens = gens[1:]
            if gens and ctx.in_flight > 0:
                return PENDING, Phases((_Barrier(),) + gens)
        return None, None


@dataclass(frozen=True, slots=True)
class _Barrier:
    def op(self, ctx: Context) -> Result:
        if ctx.in_flight > 0:
            return PENDING, self
        return None, None


@dataclass(frozen=True, slots=True)
class EachWorker:
    """Every worker runs its own copy of ``gen`` (for example, one final read each)."""

    gen: Generator
    states: tuple[tuple[int, Generator | None], ...] = ()

    def op(self, ctx: Context) -> Result:
        states = dict(self.states)
        if len(states) < ctx.workers:
            for w in range(ctx.workers):
                states.setdefault(w, self.gen)
        mine = states.get(ctx.worker)
        if mine is None:
            if all(g is None for g in states.values()):
                return None, None
            return PENDING, self
        inv, nxt = mine.op(ctx)
        if inv is None:
            nxt = None
        states[ctx.worker] = nxt
        follow = EachWorker(self.gen, tuple(sorted(states.items())))
        if inv is None:
            return follow.op(ctx)
        return inv, follow


@dataclass(frozen=True, slots=True)
class OnWorkers:
    """Only the given workers get ops from ``gen``; others see it as pending while it lasts."""

    workers: frozenset[int]
    gen: Generator

    def op(self, ctx: Context) -> Result:
        if ctx.worker not in self.workers:
            return PENDING, self
        inv, nxt = self.gen.op(ctx)
        if inv is None:
            return None, None
        return inv, OnWorkers(self.workers, nxt) if nxt is not None else None


@dataclass(frozen=True, slots=True)
class Keyed:
    """Independent keys: each op comes from the generator of a key chosen at random, and
    carries that key. Each key's generator keeps its own state (unique values per key);
    exhausted keys drop out."""

    keys: tuple[Any, ...]
    gens: tuple[Generator | None, ...]
    live: tuple[int, ...] | None = None
    """Positions of the keys whose generator is not exhausted; None means all."""

    def op(self, ctx: Context) -> Result:
        gens = self.gens
        live = self.live if self.live is not None else tuple(range(len(gens)))
        while live:
            i = ctx.rng.choice(live)
            inv, nxt = gens[i].op(ctx)  # type: ignore[union-attr]
            if inv is None:
                nxt = None
            gens = gens[:i] + (nxt,) + gens[i + 1 :]
            if nxt is None:
                live = tuple(j for j in live if j != i)
            if inv is None:
                continue
            follow = Keyed(self.keys, gens, live) if live else None
            if isinstance(inv, Invocation):
                inv = Invocation(inv.f, inv.value, self.keys[i], inv.time)
            return inv, follow
        return None, None


# ---------------------------------------------------------------- conveniences


def once(f: str, value: Any = None, key: Any = None) -> Once:
    return Once(Invocation(f, value, key))


def seq(items: Sequence[Invocation]) -> Seq:
    return Seq(tuple(items))


def mix(*gens: Generator, weights: Sequence[float] | None = None) -> Mix:
    return Mix(tuple(gens), tuple(weights) if weights else None)


def keyed(keys: Sequence[Any], make: Callable[[Any], Generator]) -> Keyed:
    """One generator per key, from ``make(key)``; ops interleave across keys at random."""
    return Keyed(tuple(keys), tuple(make(k) for k in keys))


def limit(n: int, gen: Generator) -> Limit:
    return Limit(n, gen)


def time_limit(seconds: float, gen: Generator) -> TimeLimit:
    return TimeLimit(seconds, gen)


def sleep(seconds: float) -> TimeLimit:
    """Emits nothing for ``seconds`` after it is first asked, then is exhausted."""
    return TimeLimit(seconds, Idle())


def stagger(dt: float, gen: Generator) -> Spaced:
    """A random 0..2*dt seconds between invocations: ``dt`` on average."""
    return Spaced(lambda rng: int(rng.uniform(0, 2 * dt) * NANOS), gen)


def delay(dt: float, gen: Generator) -> Spaced:
    """Exactly ``dt`` seconds between invocations."""
    return Spaced(lambda rng: int(dt * NANOS), gen)


def rate(ops_per_second: float, gen: Generator) -> Generator:
    """``ops_per_second`` on average across all workers; 0 means as fast as possible."""
    return gen if ops_per_second <= 0 else stagger(1.0 / ops_per_second, gen)


def phases(*gens: Generator) -> Phases:
    return Phases(tuple(gens))


def each_worker(gen: Generator) -> EachWorker:
    return EachWorker(gen)


def cycle(gens: Sequence[Generator], times: int) -> Generator:
    """The given generators in order, ``times`` times over (a bounded loop)."""
    return Phases(tuple(gens) * times) if times > 0 else Seq(())


def drain(
    gen: Generator | None, ctx_of: Callable[[int], Context], max_ops: int = 1_000_000
) -> list[Invocation]:
    """Run a generator with no real workers (for tests and previews); stops at ``max_ops``."""
    out: list[Invocation] = []
    step = 0
    while gen is not None and len(out) < max_ops:
        inv, gen = gen.op(ctx_of(step))
        step += 1
        if inv is None:
            break
        if isinstance(inv, Invocation):
            out.append(inv)
        elif step > max_ops * 4:
            break
    return out
