"""Clock faults. Local namespace nodes share this machine's clock, which splitbrain never
changes, so there a clock fault could only come from libfaketime inside the server; neither
etcd nor redis-server can be skewed that way, and the nemesis refuses, saying why.
Remote nodes (SSH) set their own system clocks; that lives with the SSH node provider.
"""

from __future__ import annotations

import logging
import os
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from splitbrain.harness.base.history import Op
from splitbrain.harness.base.protocols import RunContext
from splitbrain.harness.control.clock import (
    LOCAL_CLOCK_ENV,
    NodeClock,
    check_offsets,
    helper_directory,
)
from splitbrain.harness.control.node import NodeError
from splitbrain.harness.nemesis import NemesisKind
from splitbrain.harness.nemesis.errors import NemesisUnsupported
from splitbrain.harness.nemesis.nodes import NETWORK, target_nodes

log = logging.getLogger("splitbrain.clock")

LOCAL_REASONS: dict[str, str] = {
    "etcd": (
        "etcd is a Go program, and Go reads the time with raw system calls and the vDSO, "
        "not through libc, so libfaketime never reaches etcd's clock"
    ),
    "redis": "redis-server hangs at start when run under libfaketime",
}
SHARED_CLOCK = (
    "local network-namespace nodes share this machine's clock, which splitbrain never changes"
)


def unsupported_reason(target_name: str, node_kinds: set[str]) -> str | None:
    """Why clock faults cannot be injected on these nodes for this target, or None if they can."""
    if "netns" in node_kinds:
        why = LOCAL_REASONS.get(target_name, "the server has no known libfaketime support")
        return (
            f"clock nemesis is not supported for target {target_name!r} on local nodes: {SHARED_CLOCK}, "
            f"and {why}; run on remote nodes over SSH for clock faults"
        )
    return None


class ClockNemesis:
    """Real clock faults on remote nodes (``RemoteClockNemesis``); a clear refusal elsewhere."""

    name = "clock"

    def __init__(self) -> None:
        self._remote: Any = None

    def setup(self, target: Any, ctx: RunContext) -> None:
        nodes = target_nodes(target, self.name)
        reason = unsupported_reason(target.name, {n.kind for n in nodes})
        if reason is not None:
            raise NemesisUnsupported(reason)
        self._remote = RemoteClockNemesis()
        self._remote.setup(target, ctx)

    def invoke(self, op: Op) -> Op:
        if self._remote is None:
            return op.completion("fail", op.value, error="clock nemesis is not set up")
        return self._remote.invoke(op)

    def teardown(self) -> None:
        if self._remote is not None:
            self._remote.teardown()


class RemoteClockNemesis:
    """Clock faults on SSH nodes: ``bump-clock``, ``strobe-clock``, ``reset-clock``, ``check-clock-offsets``.

    Every completion carries ``clock-offsets`` measured just after the op, so reports can
    plot each node's offset over the run. ``magnitudes_ms`` are the offsets a bump or a
    strobe picks from (a random sign is added); ``(0,)`` exercises everything without
    changing any clock.
    """

    name = "clock"

    def __init__(
        self,
        magnitudes_ms: tuple[int, ...] = tuple(2**k for k in range(4, 15)),
        strobe_period_ms: int = 10,
        strobe_seconds: int = 2,
    ) -> None:
        self.magnitudes_ms = magnitudes_ms
        self.strobe_period_ms = strobe_period_ms
        self.strobe_seconds = strobe_seconds
        self.clocks: list[NodeClock] = []
        self.rng = random.Random(0)

    def setup(self, target: Any, ctx: RunContext) -> None:
        nodes = target_nodes(target, self.name)
        local = [n.name for n in nodes if n.kind != "ssh"]
        if local:
            raise NemesisUnsupported(f"clock nemesis: nodes {', '.join(local)} are not SSH nodes")
        self.rng = random.Random(ctx.rng.random())
        directory = helper_directory(ctx.run_id)
        self.clocks = [NodeClock(n, directory) for n in nodes]
        if any(self.magnitudes_ms):
            shared = [c.node.name for c in self.clocks if c.shares_this_machines_clock()]
            if shared and os.environ.get(LOCAL_CLOCK_ENV) != "1":
                raise NemesisUnsupported(
                    f"clock nemesis: nodes {', '.join(shared)} run on this machine's kernel; "
                    "splitbrain never changes this machine's clock"
                )
        for clock in self.clocks:
            clock.install()
            clock.stop_ntp()

    def _offset(self) -> int:
        return self.rng.choice(self.magnitudes_ms) * self.rng.choice((-1, 1))

    def _some(self) -> list[NodeClock]:
        return self.rng.sample(self.clocks, self.rng.randint(1, len(self.clocks)))

    def invoke(self, op: Op) -> Op:
        try:
            value = self._perform(op)
        except NodeError as e:
            return op.completion("info", op.value, error=str(e))
        value["clock-offsets"] = check_offsets(self.clocks)
        return op.completion("info", value)

    def _perform(self, op: Op) -> dict[str, Any]:
        by_name = {c.node.name: c for c in self.clocks}
        if op.f == "bump-clock":
            plan = (
                op.value
                if isinstance(op.value, dict)
                else {c.node.name: self._offset() for c in self._some()}
            )
            for name, ms in plan.items():
                by_name[name].bump(int(ms))
            return {"bumps": plan}
        if op.f == "strobe-clock":
            delta = self._offset()
            chosen = self._some()
            with ThreadPoolExecutor(len(chosen)) as pool:
                flips = list(
                    pool.map(
                        lambda c: c.strobe(delta, self.strobe_period_ms, self.strobe_seconds),
                        chosen,
                    )
                )
            return {
                "strobe": {
                    "delta-ms": delta,
                    "period-ms": self.strobe_period_ms,
                    "seconds": self.strobe_seconds,
                },
                "flips": {c.node.name: n for c, n in zip(chosen, flips, strict=True)},
            }
        if op.f == "reset-clock":
            for clock in self.clocks:
                clock.reset()
            return {"reset": sorted(by_name)}
        if op.f == "check-clock-offsets":
            return {}
        raise NodeError(f"clock nemesis cannot do {op.f!r}")

    def teardown(self) -> None:
        """Reset every clock this run changed, restart NTP, remove the helper."""
        for clock in self.clocks:
            for step in (clock.reset, clock.restore_ntp, clock.remove):
                try:
                    step()
                except NodeError as e:
                    log.error("clock teardown on %s: %s", clock.node.name, e)
        self.clocks = []


CLOCK = NemesisKind(
    ClockNemesis,
    (("bump-clock", "reset-clock"), ("strobe-clock", "reset-clock")),
    NETWORK,
)
