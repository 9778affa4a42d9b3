"""Workloads: what clients do, and the checkers that judge it.

A workload module exposes ``workload(spec: WorkloadSpec) -> Workload``; adding one is a new
file plus one line in ``WORKLOADS``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from splitbrain.harness.generator import Generator
from splitbrain.harness.history import Op

CheckerFn = Callable[[list[Op]], dict[str, Any]]

WORKLOADS: dict[str, str] = {
    "register": "splitbrain.workloads.register",
    "list-append": "splitbrain.workloads.list_append",
    "set": "splitbrain.workloads.set",
    "counter": "splitbrain.workloads.counter",
    "queue": "splitbrain.workloads.queue",
    "eventual": "splitbrain.workloads.eventual",
    "echo": "splitbrain.workloads.maelstrom:echo_workload",
    "unique-ids": "splitbrain.workloads.maelstrom:unique_ids_workload",
    "broadcast": "splitbrain.workloads.maelstrom:broadcast_workload",
    "g-set": "splitbrain.workloads.maelstrom:g_set_workload",
    "g-counter": "splitbrain.workloads.maelstrom:g_counter_workload",
    "pn-counter": "splitbrain.workloads.maelstrom:pn_counter_workload",
    "lin-kv": "splitbrain.workloads.maelstrom:lin_kv_workload",
    "txn-list-append": "splitbrain.workloads.maelstrom:txn_list_append_workload",
    "kafka": "splitbrain.workloads.maelstrom:kafka_workload",
}
"""``module`` (its ``workload`` function) or ``module:function``."""


@dataclass(frozen=True)
class WorkloadSpec:
    """What a workload may know about the test that runs it."""

    keys: int = 8
    concurrency: int = 5
    seed: int = 0
    model: str | None = None
    check_timeout: float | None = None
    options: dict[str, Any] = field(default_factory=dict)


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


def load(name: str, spec: WorkloadSpec) -> Workload:
    """Build a workload by name; raises KeyError for an unknown one, ValueError for a bad spec."""
    module_name, _, attr = WORKLOADS[name].partition(":")
    module = importlib.import_module(module_name)
    if spec.model and not getattr(module, "TAKES_MODEL", False):
        raise ValueError(
            f"workload {name!r} has a fixed checker and takes no --model (got {spec.model!r})"
        )
    return getattr(module, attr or "workload")(spec)
