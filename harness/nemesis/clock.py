"""Clock faults. Local namespace nodes share this machine's clock, which splitbrain never
changes, so there a clock fault could only come from libfaketime inside the server; neither
etcd nor redis-server can be skewed that way, and the nemesis refuses, saying why.
Remote nodes (SSH) set their own system clocks; that lives with the SSH node provider.
"""

from __future__ import annotations

from typing import Any

from splitbrain.harness.history import Op
from splitbrain.harness.nemesis import NemesisKind
from splitbrain.harness.nemesis.errors import NemesisUnsupported
from splitbrain.harness.nemesis.nodes import NETWORK, target_nodes
from splitbrain.harness.protocols import RunContext

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
        from splitbrain.harness.control.clock import RemoteClockNemesis

        self._remote = RemoteClockNemesis()
        self._remote.setup(target, ctx)

    def invoke(self, op: Op) -> Op:
        if self._remote is None:
            return op.completion("fail", op.value, error="clock nemesis is not set up")
        return self._remote.invoke(op)

    def teardown(self) -> None:
        if self._remote is not None:
            self._remote.teardown()


CLOCK = NemesisKind(
    ClockNemesis,
    (("bump-clock", "reset-clock"), ("strobe-clock", "reset-clock")),
    NETWORK,
)
