"""Workloads: what clients do, and the checkers that judge it.

A workload module exposes ``workload(spec: WorkloadSpec) -> Workload``; adding one is a new
file plus one line in ``WORKLOADS``. A module may declare ``OPTIONS``, a mapping of option
names to ``harness.values.Option`` (for its generator or its checker): ``load`` parses the
``-w KEY=VALUE`` texts into ``WorkloadSpec.options`` (every declared key, defaults filled
in) and refuses a key the workload does not declare.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any

from splitbrain.harness.generator import Generator
from splitbrain.harness.history import Op
from splitbrain.harness.values import Option, parse_options

CheckerFn = Callable[[list[Op]], dict[str, Any]]

WORKLOADS: dict[str, str] = {
    "register": "splitbrain.workloads.register",
    "list-append": "splitbrain.workloads.list_append",
    "set": "splitbrain.workloads.set",
    "counter": "splitbrain.workloads.counter",
    "queue": "splitbrain.workloads.queue",
    "eventual": "splitbrain.workloads.eventual",
}


@dataclass(frozen=True)
class WorkloadSpec:
    """What a workload may know about the test that runs it."""

    keys: int = 8
    concurrency: int = 5
    seed: int = 0
    model: str | None = None
    check_timeout: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    """Option texts when given to ``load``; the workload receives them parsed."""


@dataclass(frozen=True)
class Workload:
    name: str
    generator: Generator
    """Main-phase ops; the run bounds it by time and rate."""
    final_generator: Generator | None
    """Ops after every fault is healed and the system settled (final reads, drains)."""
    checkers: dict[str, CheckerFn]
    read_every_node: bool = False
    """After the final phase, read each node directly (``read-node``, value = node name)."""


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


def load(name: str, spec: WorkloadSpec) -> Workload:
    """Build a workload by name; raises KeyError for an unknown one, ValueError for a bad spec
    (a model it does not take, an option it does not declare or a value that does not fit)."""
    module = importlib.import_module(WORKLOADS[name])
    if spec.model and not getattr(module, "TAKES_MODEL", False):
        raise ValueError(
            f"workload {name!r} has a fixed checker and takes no --model (got {spec.model!r})"
        )
    return module.workload(with_options(spec, declared_options(module), name))
