"""The interfaces every piece plugs into, in the manner of Jepsen's DB, Client, Nemesis and Checker.

Implementations satisfy these structurally; they need not import this module. The main
protocols name what every implementation must have; optional abilities are small
capability protocols the engine checks with ``isinstance`` (as Jepsen checks ``db/Kill``,
``db/Pause``, ``db/LogFiles``), so nothing the engine calls is undeclared.

Operations. A workload and a target meet at operations: the workload declares the
operations its clients issue, the target the ones its client implements, and a run is
refused before anything starts if one is missing. An operation is the ``f`` the client is
invoked with (``read``, ``write``, ``cas``, ``txn``, ``enqueue``, ...). Where one ``f`` means
different things on different data types, the declaration names the type first
(``set.add``/``set.read``, ``counter.add``/``counter.read``); the history still carries
the bare ``f``. A target learns which operations the run needs from ``RunContext.operations``.
Reading every node after the final phase is the operation ``read-node``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from splitbrain.harness.base.errors import HarnessInputError as HarnessInputError
from splitbrain.harness.base.history import HistoryWriter, Op

if TYPE_CHECKING:  # annotations only: the generators are not needed to check a history
    from splitbrain.harness.base.generator import Generator, Invocation

Cycle = tuple[str, str, Any]
"""A fault cycle: (start f, stop f, the start op's value: the variant it forces, or None)."""


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
    """The workload's name, for logs and file names (clients dispatch on ``operations``)."""
    operations: frozenset[str] = frozenset()
    """The operations the workload issues (see the module docstring)."""
    workload_options: dict[str, Any] = field(default_factory=dict)
    """The workload's ``-w`` options, parsed, defaults filled in: what a client reads to set
    up its data, as Jepsen's clients read the test map (the bank's accounts and total)."""
    op_timeout: float = 5.0
    """Seconds a client may take for one op before it must give up (recorded as ``info``)."""
    concurrency: int = 0
    """Client workers; process ``p`` runs on worker ``p % concurrency`` (0: unknown)."""

    def worker_of(self, process: int) -> int:
        """The worker slot of a process. Targets bind clients to nodes by worker, as Jepsen
        binds threads, so the process that replaces a crashed one talks to the same node."""
        return process % self.concurrency if self.concurrency > 0 else process


DATA_TYPES = {
    "set.add": "set",
    "counter.add": "counter",
    "enqueue": "queue",
    "txn": "list-append",
    "rw.txn": "rw-register",
    "bank.transfer": "bank",
}


def data_type(operations: frozenset[str]) -> str:
    """The data type a run's operations act on, for targets that keep one per type
    (``set``, ``counter``, ``queue``, ``list-append``, ``rw-register``, ``bank``; otherwise
    ``register``)."""
    return next((t for op, t in DATA_TYPES.items() if op in operations), "register")


def bare_f(operation: str) -> str:
    """The ``f`` a declared operation is invoked with (``counter.add`` -> ``add``)."""
    return operation.rpartition(".")[2]


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
    operations: frozenset[str]
    """The operations its client implements (see the module docstring)."""

    def setup(self, ctx: RunContext) -> None: ...

    def teardown(self) -> None:
        """Undo everything setup did; must be safe to call after a failed or partial setup."""

    def nodes(self) -> list[str]: ...

    def client(self, process: int) -> Client: ...


@runtime_checkable
class Configurable(Protocol):
    """A target that takes ``-o KEY=VALUE`` options."""

    options: dict[str, str]
    """Accepted keys with their defaults; unknown keys are refused before setup."""

    def configure(self, options: dict[str, str]) -> None:
        """Validate the values before anything is set up; raise HarnessInputError."""


@runtime_checkable
class Killable(Protocol):
    """Nodes can be crashed and started again (``--nemesis kill``)."""

    def kill(self, node: str) -> None: ...

    def start(self, node: str) -> None: ...


@runtime_checkable
class Pausable(Protocol):
    """Nodes can be paused and resumed (``--nemesis pause``)."""

    def pause(self, node: str) -> None: ...

    def resume(self, node: str) -> None: ...


@runtime_checkable
class HasLogs(Protocol):
    """The target's logs are copied into the run directory at teardown."""

    def collect_logs(self, dest: Path) -> None: ...


@runtime_checkable
class ContributesResults(Protocol):
    """The target judges something itself (a Maelstrom router's message counts): its
    checker results are added to the run's after the history's checkers ran."""

    def extra_results(self) -> dict[str, Any]: ...


@runtime_checkable
class HasNetworkNodes(Protocol):
    """Nodes are real hosts or namespaces (``harness.control.node.Node``), so network and
    clock nemeses can reach them."""

    def node(self, name: str) -> Any: ...


@runtime_checkable
class RunsOnHosts(Protocol):
    """The target's nodes come from a provider, so ``--nodes`` can put them on SSH hosts."""

    def run_on(self, provider: Any) -> None:
        """Take the nodes of ``provider`` (set up in ``setup``) instead of local ones; the
        target owns it from then on, so its ``teardown`` tears the provider down too."""


@runtime_checkable
class HasDefaultRate(Protocol):
    """A target with a rate of its own for runs that give no ``--rate`` (ops per second)."""

    default_rate: float


@runtime_checkable
class HasWorkloadRates(Protocol):
    """A target whose rate for runs that give no ``--rate`` depends on the workload, because
    some workloads' histories grow faster than others on it (ops per second; None: its
    ``default_rate`` if it has one, else as fast as it goes)."""

    def default_rate_for(self, workload: str) -> float | None: ...


@runtime_checkable
class RefusesWorkloads(Protocol):
    """A target that can tell before the run that it cannot serve a workload."""

    def refuse_workload(self, workload: str, model: str | None, options: dict[str, str]) -> None:
        """Raise HarnessInputError naming why, or return."""


@runtime_checkable
class LimitsNemeses(Protocol):
    """A target that takes only some nemeses; others are refused before setup."""

    supported_nemeses: frozenset[str]


@runtime_checkable
class Workload(Protocol):
    """What clients do, and the checkers that judge it."""

    name: str
    operations: frozenset[str]
    """The operations its generators issue (see the module docstring)."""
    generator: Any
    final_generator: Any
    checkers: dict[str, Any]
    read_every_node: bool


@runtime_checkable
class Nemesis(Protocol):
    """A fault injector. Every fault it injects can be undone, and ``teardown`` undoes all."""

    name: str

    def setup(self, target: Target, ctx: RunContext) -> None: ...

    def invoke(self, op: Op) -> Op:
        """Perform a nemesis op (``f`` like ``start-partition``/``stop-partition``); return its completion."""

    def teardown(self) -> None: ...


@runtime_checkable
class NemesisKind(Protocol):
    """What the nemesis registry holds: how to build a nemesis and the faults it cycles."""

    cycle: tuple[tuple[str, str], ...]
    """(start f, stop f) pairs the schedule alternates; every stop f heals at the end."""
    requires: tuple[type, ...]
    """Capability protocols a target must satisfy to take it (``Killable``, ...)."""
    variant: str | None
    """The value of each start op (a grudge or packet fault kind), or None."""

    def build(self) -> Nemesis: ...


@runtime_checkable
class Checker(Protocol):
    """A pure function of a history: returns a dict whose ``valid`` is True, False or "unknown"."""

    def __call__(self, history: list[Op]) -> dict[str, Any]: ...


@runtime_checkable
class Model(Protocol):
    """A sequential specification for the linearizability checker (porcupine's Model).

    States need not be hashable: a model that also ``HashesStates`` is asked, and
    otherwise the checker freezes states (lists to tuples, dicts to sorted items) itself.
    """

    def init(self) -> Any: ...

    def step(self, state: Any, f: str, invoke_value: Any, ok_value: Any) -> tuple[bool, Any]:
        """Apply an op; return (legal, new state). ``ok_value`` is None when the outcome is unknown."""


@runtime_checkable
class HashesStates(Protocol):
    """A model that says itself when two states are the same (porcupine's ``Equal``)."""

    def hash(self, state: Any) -> int: ...

    def equal(self, a: Any, b: Any) -> bool: ...


def required_members(protocol: type) -> list[str]:
    """The attributes and methods a protocol declares, in declaration order."""
    members: list[str] = []
    for cls in reversed(protocol.__mro__):
        if cls in (object, Protocol) or not getattr(cls, "_is_protocol", False):
            continue
        for name in [*getattr(cls, "__annotations__", {}), *vars(cls)]:
            if name == "__call__" or not name.startswith("_"):
                if name not in members:
                    members.append(name)
    return members


def conformance_problem(obj: Any, protocol: type) -> str | None:
    """None if ``obj`` has every member ``protocol`` requires, else one line naming the missing.

    Presence is what counts, as for ``isinstance``; unlike ``isinstance`` on Python 3.11, a
    member that is None (a model whose initial state is None) is present.
    """
    missing = [m for m in required_members(protocol) if not hasattr(obj, m)]
    if not missing:
        return None
    if "__call__" in missing:
        return f"{obj!r} is not callable, which a {protocol.__name__} must be"
    shown = ", ".join(f"{m}()" if callable(getattr(protocol, m, None)) else m for m in missing)
    what = obj.__name__ if isinstance(obj, type) else type(obj).__name__
    return f"{what} lacks {shown}, which a {protocol.__name__} requires"


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

    def faults(self, kinds: Sequence[tuple[Any, NemesisKind]]) -> list[Cycle]:
        """Prepare the nemeses (what the spec named, its kind); their fault cycles, in
        schedule order."""

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
class OwnsNemeses(Protocol):
    """A target with its own implementation of some nemesis names (the maelstrom router
    partitions and drops messages itself): asked before the registry's kind is built."""

    def nemesis(self, name: str) -> Nemesis | None: ...


@runtime_checkable
class OwnsTime(Protocol):
    """A target that runs in a time of its own (the simulator's virtual time): the engine's
    phases run on the runtime it returns, instead of on threads against its clients."""

    def runtime(self, ctx: RunContext, writer: HistoryWriter) -> Runtime: ...
