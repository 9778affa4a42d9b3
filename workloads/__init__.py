"""Workloads: what clients do, and the checkers that judge it.

A workload module exposes ``workload(spec: WorkloadSpec) -> Workload`` and registers it in
the ``splitbrain.workloads`` entry-point group (pyproject.toml), as a user's own does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from splitbrain.harness.generator import Generator
from splitbrain.harness.history import Op

CheckerFn = Callable[[list[Op]], dict[str, Any]]


@dataclass(frozen=True)
class WorkloadSpec:
    """What a workload may know about the test that runs it."""

    keys: int = 8
    concurrency: int = 5
    seed: int = 0
    model: str | None = None
    check_timeout: float | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def refuse_model(self, workload: str) -> None:
        """For workloads whose checker is fixed: a ``--model`` is bad input."""
        if self.model is not None:
            raise ValueError(
                f"workload {workload!r} has a fixed checker and takes no --model (got {self.model!r})"
            )


@dataclass(frozen=True)
class Workload:
    name: str
    generator: Generator
    """Main-phase ops; the run bounds it by time and rate."""
    final_generator: Generator | None
    """Ops after every fault is healed and the system settled (final reads, drains)."""
    checkers: dict[str, CheckerFn]
    operations: frozenset[str]
    """The operations the generators issue (``harness.protocols``: operations)."""
    read_every_node: bool = False
    """After the final phase, read each node directly (``read-node``, value = node name)."""
