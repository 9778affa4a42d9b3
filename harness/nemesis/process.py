"""Process faults through the target's own lifecycle: crash and restart, pause and resume.

``kill`` SIGKILLs the servers of a node (their whole process group) and ``start`` restarts
them on the same data directory; ``pause`` SIGSTOPs them and ``resume`` SIGCONTs them.
The op value names the nodes (a name or a list); None picks one node at random.
Teardown resumes every paused node and restarts every killed one.
"""

from __future__ import annotations

import random
from typing import Any

from splitbrain.harness.base.history import Op
from splitbrain.harness.base.protocols import Killable, Pausable, RunContext
from splitbrain.harness.nemesis import NemesisKind


def _nodes_of(value: Any, nodes: list[str], rng: random.Random) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value:
        return [str(v) for v in value]
    return [rng.choice(nodes)]


class _ProcessNemesis:
    name = "process"
    fault_f = ""
    heal_f = ""

    def __init__(self) -> None:
        self.target: Any = None
        self.rng = random.Random(0)
        self.faulted: list[str] = []

    def setup(self, target: Any, ctx: RunContext) -> None:
        self.target = target
        self.rng = random.Random(ctx.rng.random())

    def fault(self, node: str) -> None:
        raise NotImplementedError

    def heal(self, node: str) -> None:
        raise NotImplementedError

    def invoke(self, op: Op) -> Op:
        if op.f == self.fault_f:
            chosen = _nodes_of(op.value, self.target.nodes(), self.rng)
            for node in chosen:
                if node not in self.faulted:
                    self.faulted.append(node)
                self.fault(node)
            return op.completion("info", chosen)
        if op.f == self.heal_f:
            healed = self.heal_all()
            return op.completion("info", healed)
        return op.completion("fail", op.value, error=f"{self.name} cannot do {op.f!r}")

    def heal_all(self) -> list[str]:
        """Heal every faulted node; all are attempted even if one fails, then the first error is raised."""
        healed, errors = [], []
        for node in list(self.faulted):
            try:
                self.heal(node)
                healed.append(node)
                self.faulted.remove(node)
            except Exception as e:
                errors.append(e)
        if errors:
            raise errors[0]
        return healed

    def teardown(self) -> None:
        if self.target is not None:
            self.heal_all()


class KillNemesis(_ProcessNemesis):
    name = "kill"
    fault_f = "kill"
    heal_f = "start"

    def fault(self, node: str) -> None:
        self.target.kill(node)

    def heal(self, node: str) -> None:
        self.target.start(node)


class PauseNemesis(_ProcessNemesis):
    name = "pause"
    fault_f = "pause"
    heal_f = "resume"

    def fault(self, node: str) -> None:
        self.target.pause(node)

    def heal(self, node: str) -> None:
        self.target.resume(node)


KILL = NemesisKind(KillNemesis, (("kill", "start"),), (Killable,))
PAUSE = NemesisKind(PauseNemesis, (("pause", "resume"),), (Pausable,))
