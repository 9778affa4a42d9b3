"""Workloads: what clients do, and the checkers that judge it.

A workload module exposes ``workload(spec: WorkloadSpec) -> Workload`` and registers it in
the ``splitbrain.workloads`` entry-point group (pyproject.toml), as a user's own does. A module
may declare ``OPTIONS``, a mapping of option names to ``harness.values.Option`` (for its
generator or its checker): the engine parses the ``-w KEY=VALUE`` texts into
``WorkloadSpec.options`` (every declared key, defaults filled in) and refuses a key the
workload does not declare.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import TYPE_CHECKING, Any

from splitbrain.harness.base.history import Op
from splitbrain.harness.base.values import Option, parse_options

if TYPE_CHECKING:  # annotations only: the generators are not needed to check a history
    from splitbrain.harness.base.generator import Generator

CheckerFn = Callable[[list[Op]], dict[str, Any]]


@dataclass(frozen=True)
class WorkloadSpec:
    """What a workload may know about the test that runs it."""

    keys: int = 8
    concurrency: int = 5
    seed: int = 0
    model: str | None = None
    """The data type the ops are checked as, where the workload has a choice (register)."""
    consistency: tuple[str, ...] = ()
    """The consistency models claimed (``checkers.hierarchy``); empty: the workload's own."""
    check_timeout: float | None = None
    assume: tuple[str, ...] = ()
    """What the user asserts about the system for the checker to rely on (``--assume``)."""
    options: dict[str, Any] = field(default_factory=dict)
    """Option texts when given to ``load``; the workload receives them parsed."""

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
    data_type: str | None = None
    """The data type of its ops (``checkers.hierarchy``): the run's spectrum is over its models."""
    decides: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Checker name -> the consistency models whose conjunction that checker decides."""
    assumptions: frozenset[str] = frozenset()
    """The ``--assume`` names its checker can use; any other given is refused."""


def declared_options(factory: ModuleType | Callable[..., Any]) -> dict[str, Option]:
    """The ``-w`` options a workload declares: ``OPTIONS`` in its module."""
    module = factory if isinstance(factory, ModuleType) else inspect.getmodule(factory)
    return dict(getattr(module, "OPTIONS", {}))


def with_options(spec: WorkloadSpec, declared: dict[str, Option], workload: str) -> WorkloadSpec:
    """``spec`` with its ``-w`` texts parsed: every declared option, defaults filled in; an
    undeclared key or a value that does not fit raises ValueError naming it."""
    return replace(
        spec, options=parse_options(declared, spec.options, "-w", f"workload {workload!r}")
    )
