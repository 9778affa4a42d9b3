"""The in-process reference store: a linearizable key-value register store.

Every operation takes one lock, so the store is linearizable by construction. Two
deliberate fault modes exist to prove the checkers catch real bugs:

- ``-o fault=stale-reads``: with probability ``fault-rate``, a read returns an older
  value of the key instead of the current one.
- ``-o fault=lost-writes``: with probability ``fault-rate``, a write is acknowledged but
  not applied.
- ``-o fault=torn-transfers``: with probability ``fault-rate``, a bank transfer is applied
  in two steps instead of one transaction: the debit at once, the credit only after the
  store has answered the next read of the balances, which sees the money in flight.
- ``-o fault=overdrafts``: with probability ``fault-rate``, a bank transfer skips its
  funds check, so a balance may go below zero where the workload forbids it.

The single node ``n1`` can be killed (clients are refused until it starts again; the data
survives, as on a durable store) and paused (operations block until resumed).
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from splitbrain.checkers.bank import DEFAULT_ACCOUNTS, DEFAULT_TOTAL, initial_balances
from splitbrain.harness.base.history import Op
from splitbrain.harness.base.locks import YieldingLock
from splitbrain.harness.base.protocols import HarnessInputError, RunContext, bare_f, data_type

FAULTS = ("none", "stale-reads", "lost-writes", "torn-transfers", "overdrafts")
NODE = "n1"


class NodeDown(ConnectionError):
    """The node is killed: the request was refused before it was sent."""


class MemoryStore:
    """A thread-safe register store with read, write, compare-and-set, a queue/set/counter,
    and bank accounts."""

    def __init__(self, fault: str = "none", fault_rate: float = 0.0, seed: int = 0) -> None:
        self._lock = YieldingLock()
        self._running = threading.Event()
        self._running.set()
        self._up = True
        self._data: dict[Any, Any] = {}
        self._past: dict[Any, deque[Any]] = {}
        self._fault = fault
        self._fault_rate = fault_rate
        self._rng = random.Random(seed)
        self.op_timeout = 5.0
        self._balances: dict[int, int] = {}
        self._negative_balances = False
        self._in_flight: list[tuple[int, int]] = []
        """Credits of torn transfers, applied after the next read of the balances."""

    def _gate(self) -> None:
        if not self._running.is_set() and not self._running.wait(self.op_timeout):
            raise TimeoutError(f"n1 is paused: no answer within {self.op_timeout:g}s")
        if not self._up:
            raise NodeDown("n1 is down")

    def _faulty(self, kind: str) -> bool:
        return self._fault == kind and self._rng.random() < self._fault_rate

    def read(self, key: Any) -> Any:
        self._gate()
        with self._lock:
            past = self._past.get(key)
            if past and self._faulty("stale-reads"):
                return self._rng.choice(past)
            return self._data.get(key)

    def _set(self, key: Any, value: Any) -> None:
        if key in self._data:
            self._past.setdefault(key, deque(maxlen=8)).append(self._data[key])
        self._data[key] = value

    def write(self, key: Any, value: Any) -> None:
        self._gate()
        with self._lock:
            if not self._faulty("lost-writes"):
                self._set(key, value)

    def cas(self, key: Any, old: Any, new: Any) -> bool:
        self._gate()
        with self._lock:
            if self._data.get(key) != old:
                return False
            self._set(key, new)
            return True

    def txn(self, mops: list[list[Any]]) -> list[list[Any]]:
        """Elle's list-append micro-ops, applied atomically: serializable by construction."""
        self._gate()
        out: list[list[Any]] = []
        with self._lock:
            for f, k, v in mops:
                current = self._data.setdefault(("list", k), [])
                if f == "append":
                    if not self._faulty("lost-writes"):
                        current.append(v)
                    out.append([f, k, v])
                else:
                    out.append([f, k, list(current)])
        return out

    def rw_txn(self, mops: list[list[Any]]) -> list[list[Any]]:
        """Elle's rw-register micro-ops on registers of their own, applied atomically; the
        faults act on each micro-op: a read may return an older value of its key
        (``stale-reads``), a write may be acknowledged and dropped (``lost-writes``)."""
        self._gate()
        out: list[list[Any]] = []
        with self._lock:
            for f, k, v in mops:
                key = ("rw", k)
                if f == "w":
                    if not self._faulty("lost-writes"):
                        self._set(key, v)
                    out.append([f, k, v])
                    continue
                past = self._past.get(key)
                if past and self._faulty("stale-reads"):
                    out.append([f, k, self._rng.choice(past)])
                else:
                    out.append([f, k, self._data.get(key)])
        return out

    def add(self, element: Any) -> None:
        self._gate()
        with self._lock:
            if not self._faulty("lost-writes"):
                self._data.setdefault("set", set()).add(element)

    def read_set(self) -> list[Any]:
        self._gate()
        with self._lock:
            return sorted(self._data.get("set", ()))

    def increment(self, delta: int) -> None:
        self._gate()
        with self._lock:
            if not self._faulty("lost-writes"):
                self._data["counter"] = self._data.get("counter", 0) + delta

    def read_counter(self) -> int:
        self._gate()
        with self._lock:
            return self._data.get("counter", 0)

    def enqueue(self, message: Any) -> None:
        self._gate()
        with self._lock:
            if not self._faulty("lost-writes"):
                self._data.setdefault("queue", deque()).append(message)

    def dequeue(self) -> tuple[bool, Any]:
        """(True, message), or (False, None) when the queue is empty."""
        self._gate()
        with self._lock:
            queue = self._data.get("queue")
            if not queue:
                return False, None
            return True, queue.popleft()

    def drain(self) -> list[Any]:
        self._gate()
        with self._lock:
            queue = self._data.get("queue") or deque()
            out = list(queue)
            queue.clear()
            return out

    def open_accounts(self, balances: dict[int, int], negative_balances: bool) -> None:
        with self._lock:
            self._balances = dict(balances)
            self._negative_balances = negative_balances
            self._in_flight.clear()

    def transfer(self, source: int, dest: int, amount: int) -> str | None:
        """Move ``amount`` from ``source`` to ``dest`` atomically; None when done, else why not."""
        self._gate()
        with self._lock:
            for account in (source, dest):
                if account not in self._balances:
                    return f"no account {account!r}"
            if (
                not self._negative_balances
                and self._balances[source] < amount
                and not self._faulty("overdrafts")
            ):
                return "insufficient funds"
            self._balances[source] -= amount
            if self._faulty("torn-transfers"):
                self._in_flight.append((dest, amount))
            else:
                self._balances[dest] += amount
            return None

    def read_balances(self) -> dict[int, int]:
        self._gate()
        with self._lock:
            seen = dict(self._balances)
            for dest, amount in self._in_flight:
                self._balances[dest] += amount
            self._in_flight.clear()
            return seen

    def snapshot(self) -> dict[str, Any]:
        """The whole register state, keys as strings (as JSON will have them)."""
        self._gate()
        with self._lock:
            return {
                str(k): v
                for k, v in sorted(self._data.items(), key=lambda kv: str(kv[0]))
                if not isinstance(k, tuple)
            }

    def kill(self) -> None:
        self._up = False

    def start(self) -> None:
        self._up = True

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()


OPERATIONS = frozenset(
    {
        "read",
        "write",
        "cas",
        "txn",
        "rw.txn",
        "set.add",
        "set.read",
        "counter.add",
        "counter.read",
        "enqueue",
        "dequeue",
        "drain",
        "bank.transfer",
        "bank.read",
        "read-node",
    }
)


class MemoryClient:
    """Register ops on ``key``; ``txn`` (list-append, or rw-register as ``rw.txn``); set and
    counter ``add``/``read``; queue ``enqueue``/``dequeue``/``drain``; bank ``transfer``/``read``.
    ``operations`` (the run's) say which meaning
    each ``f`` has: ``set.add`` and ``counter.add`` are both invoked as ``add``."""

    def __init__(self, store: MemoryStore, operations: frozenset[str] = frozenset()) -> None:
        self._store = store
        implementations: dict[str, Callable[[Op], Op]] = {
            "read": self._read,
            "write": self._write,
            "cas": self._cas,
            "txn": self._txn,
            "rw.txn": self._rw_txn,
            "set.add": self._add_element,
            "set.read": self._read_set,
            "counter.add": self._increment,
            "counter.read": self._read_counter,
            "enqueue": self._enqueue,
            "dequeue": self._dequeue,
            "drain": self._drain,
            "bank.transfer": self._transfer,
            "bank.read": self._read_balances,
            "read-node": self._read_node,
        }
        self._handlers = {
            bare_f(name): implementations[name]
            for name in sorted(operations or {"read", "write", "cas"})
            if name in implementations
        }

    def invoke(self, op: Op) -> Op:
        handler = self._handlers.get(op.f)
        if handler is None:
            return _complete(op, "fail", op.value, error=f"unsupported op {op.f!r}")
        try:
            return handler(op)
        except NodeDown as e:
            return _complete(op, "fail", op.value, error=f"refused: {e}")

    def _read(self, op: Op) -> Op:
        return _complete(op, "ok", self._store.read(op.key))

    def _write(self, op: Op) -> Op:
        self._store.write(op.key, op.value)
        return _complete(op, "ok", op.value)

    def _cas(self, op: Op) -> Op:
        old, new = op.value
        return _complete(op, "ok" if self._store.cas(op.key, old, new) else "fail", op.value)

    def _txn(self, op: Op) -> Op:
        return _complete(op, "ok", self._store.txn(op.value))

    def _rw_txn(self, op: Op) -> Op:
        return _complete(op, "ok", self._store.rw_txn(op.value))

    def _add_element(self, op: Op) -> Op:
        self._store.add(op.value)
        return _complete(op, "ok", op.value)

    def _read_set(self, op: Op) -> Op:
        return _complete(op, "ok", self._store.read_set())

    def _increment(self, op: Op) -> Op:
        self._store.increment(op.value)
        return _complete(op, "ok", op.value)

    def _read_counter(self, op: Op) -> Op:
        return _complete(op, "ok", self._store.read_counter())

    def _enqueue(self, op: Op) -> Op:
        self._store.enqueue(op.value)
        return _complete(op, "ok", op.value)

    def _dequeue(self, op: Op) -> Op:
        found, message = self._store.dequeue()
        if found:
            return _complete(op, "ok", message)
        return _complete(op, "fail", None, error="empty")

    def _drain(self, op: Op) -> Op:
        return _complete(op, "ok", self._store.drain())

    def _transfer(self, op: Op) -> Op:
        t = op.value
        refused = self._store.transfer(t["from"], t["to"], t["amount"])
        return _complete(op, "fail" if refused else "ok", op.value, error=refused)

    def _read_balances(self, op: Op) -> Op:
        return _complete(op, "ok", self._store.read_balances())

    def _read_node(self, op: Op) -> Op:
        return _complete(op, "ok", self._store.snapshot())

    def close(self) -> None:
        pass


def _complete(op: Op, typ: str, value: Any, error: Any = None) -> Op:
    return op.completion(typ, value, node=NODE, error=error)


class MemoryTarget:
    """The embedded default target."""

    name = "memory"
    operations = OPERATIONS
    supported_nemeses = frozenset({"kill", "pause"})
    reads_every_node = True
    options = {"fault": "none", "fault-rate": "0.05"}
    default_rate = 100.0
    """Ops/s when the test sets none: finds both fault modes at every seed tried
    (benchmarks/bench_detection.py) and keeps a default run to well under a MB."""

    def __init__(self) -> None:
        self.store: MemoryStore | None = None
        self._fault, self._rate = "none", 0.0
        self._operations: frozenset[str] = frozenset()

    def configure(self, options: dict[str, str]) -> None:
        """Validate ``-o`` options before anything is set up."""
        fault = options.get("fault", "none")
        if fault not in FAULTS:
            raise HarnessInputError(
                f"-o fault={fault}: unknown fault; use one of {', '.join(FAULTS)}"
            )
        rate_text = options.get("fault-rate", self.options["fault-rate"])
        try:
            rate = float(rate_text)
        except ValueError:
            raise HarnessInputError(f"-o fault-rate={rate_text}: not a number") from None
        if not 0 <= rate <= 1:
            raise HarnessInputError(f"-o fault-rate={rate_text}: must be between 0 and 1")
        self._fault, self._rate = fault, rate

    def setup(self, ctx: RunContext) -> None:
        self.configure(ctx.options)
        self.store = MemoryStore(self._fault, self._rate, seed=ctx.seed)
        self.store.op_timeout = ctx.op_timeout
        self._operations = ctx.operations
        if data_type(ctx.operations) == "bank":
            opts = ctx.workload_options
            self.store.open_accounts(
                initial_balances(
                    opts.get("accounts", DEFAULT_ACCOUNTS), opts.get("total", DEFAULT_TOTAL)
                ),
                bool(opts.get("negative-balances", False)),
            )

    def teardown(self) -> None:
        if self.store is not None:
            self.store.resume()

    def nodes(self) -> list[str]:
        return [NODE]

    def client(self, process: int) -> MemoryClient:
        assert self.store is not None, "setup() first"
        return MemoryClient(self.store, self._operations)

    def _node(self, node: str) -> MemoryStore:
        if node != NODE or self.store is None:
            raise HarnessInputError(f"memory target has only node {NODE}")
        return self.store

    def kill(self, node: str) -> None:
        self._node(node).kill()

    def start(self, node: str) -> None:
        self._node(node).start()

    def pause(self, node: str) -> None:
        self._node(node).pause()

    def resume(self, node: str) -> None:
        self._node(node).resume()

    def collect_logs(self, dest: Path) -> None:
        pass
