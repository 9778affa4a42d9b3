"""The interfaces every piece plugs into, in the manner of Jepsen's DB, Client, Nemesis and Checker.

Implementations satisfy these structurally; they need not import this module.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from splitbrain.harness.generator import Generator, Invocation
from splitbrain.harness.history import HistoryWriter, Op

Cycle = tuple[str, str, Any]
"""A fault cycle: (start f, stop f, the start op's value: the variant it forces, or None)."""


class HarnessInputError(ValueError):
    """Bad user input (unknown name, bad option, malformed file): exit 254, one line, no traceback."""


@dataclass
class RunContext:
    """What a run hands to targets, nemeses and workloads."""

    run_id: str
    run_dir: Path
    seed: int
    rng: random.Random
    log: logging.Logger
    options: dict[str, str] = field(default_factory=dict)
    """Target options given with ``-o KEY=VALUE``."""
    workload: str = "register"
    """The workload's name, for targets whose clients map ops differently per workload."""
    op_timeout: float = 5.0
    """Seconds a client may take for one op before it must give up (recorded as ``info``)."""
    concurrency: int = 0
    """Client workers; process ``p`` runs on worker ``p % concurrency`` (0: unknown)."""

    def worker_of(self, process: int) -> int:
        """The worker slot of a process. Targets bind clients to nodes by worker, as Jepsen
        binds threads, so the process that replaces a crashed one talks to the same node."""
        return process % self.concurrency if self.concurrency > 0 else process

    clock: Callable[[], int] = lambda: 0
    """Nanoseconds since the run began (monotonic, or virtual in the simulator)."""
    sleep: Callable[[float], None] = lambda s: None
    """Sleep in run time (real seconds, or virtual in the simulator)."""


@runtime_checkable
class Client(Protocol):
    """One per worker process. ``invoke`` performs the op and returns its completion.

    The completion is the same op with ``type`` set to ``ok``, ``fail`` (certainly did not
    happen) or ``info`` (unknown), and the value filled in (a read's result). Raising an
    exception, or taking longer than the op timeout, is recorded as ``info``.
    """

    def invoke(self, op: Op) -> Op: ...

    def close(self) -> None: ...


@runtime_checkable
class Target(Protocol):
    """A system under test: its lifecycle, its nodes, and clients for it."""

    name: str
    options: dict[str, str]
    """Accepted ``-o`` keys with their defaults; unknown keys are refused before setup."""

    def configure(self, options: dict[str, str]) -> None:
        """Validate ``-o`` values before anything is set up; raise HarnessInputError."""

    def setup(self, ctx: RunContext) -> None: ...

    def teardown(self) -> None:
        """Undo everything setup did; must be safe to call after a failed or partial setup."""

    def nodes(self) -> list[str]: ...

    def client(self, process: int) -> Client: ...

    def kill(self, node: str) -> None: ...

    def start(self, node: str) -> None: ...

    def pause(self, node: str) -> None: ...

    def resume(self, node: str) -> None: ...

    def collect_logs(self, dest: Path) -> None: ...


@runtime_checkable
class Nemesis(Protocol):
    """A fault injector. Every fault it injects can be undone, and ``teardown`` undoes all."""

    name: str

    def setup(self, target: Target, ctx: RunContext) -> None: ...

    def invoke(self, op: Op) -> Op:
        """Perform a nemesis op (``f`` like ``start-partition``/``stop-partition``); return its completion."""

    def teardown(self) -> None: ...


@runtime_checkable
class Checker(Protocol):
    """A pure function of a history: returns a dict whose ``valid`` is True, False or "unknown"."""

    def __call__(self, history: list[Op]) -> dict[str, Any]: ...


@runtime_checkable
class Model(Protocol):
    """A sequential specification for the linearizability checker (porcupine's Model)."""

    def init(self) -> Any: ...

    def step(self, state: Any, f: str, invoke_value: Any, ok_value: Any) -> tuple[bool, Any]:
        """Apply an op; return (legal, new state). ``ok_value`` is None when the outcome is unknown."""


@runtime_checkable
class Runtime(Protocol):
    """How a run's phases execute: worker threads on the monotonic clock for real targets,
    events in virtual time for the simulator. The engine's one phase sequence drives either."""

    reads_nodes: bool
    """Whether the final phase reads every node directly, whatever the workload asks."""

    @property
    def stopped(self) -> bool:
        """Something went wrong and the remaining phases are skipped."""

    def nodes(self) -> list[str]: ...

    def faults(self, names: list[str]) -> list[Cycle]:
        """Prepare the named nemeses; their fault cycles, in schedule order."""

    def run_phase(
        self, clients: Generator | None, faults: Generator | None, budget_s: float
    ) -> None:
        """Run the clients' generator (and the fault schedule beside it) until both are done,
        or ``budget_s`` seconds of run time have passed."""

    def nemesis_op(self, inv: Invocation) -> None:
        """Perform and record one nemesis op now (the heal after the main phase)."""

    def settle(self, seconds: float) -> None:
        """Let ``seconds`` of run time pass with no ops."""


@runtime_checkable
class OwnsTime(Protocol):
    """A target that runs in a time of its own (the simulator's virtual time): the engine's
    phases run on the runtime it returns, instead of on threads against its clients."""

    def runtime(self, ctx: RunContext, writer: HistoryWriter) -> Runtime: ...
