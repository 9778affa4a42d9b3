"""What every simulated replica shares: liveness, pause, its own wall clock, a ticker, requests.

A node only acts through ``deliver`` (a peer's message), ``receive`` (a client request) and
``tick`` (its timer: every 10 ms, or when the mode's next deadline falls due); all three are
gated here, so a killed node never acts and a paused one acts only after it is resumed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from splitbrain.targets.sim.cluster import Cluster

MS = 1_000_000
TICK = 10 * MS


@dataclass(slots=True, eq=False)
class Request:
    """A client operation as it travels inside the cluster; answered through ``port``."""

    rid: int
    f: str
    key: Any
    value: Any
    port: Any
    """The client side: ``port.complete(rid, type, value, error, node)``."""
    hops: int = 0


@dataclass(slots=True)
class Strobe:
    delta: int
    period: int


class Node:
    """Base replica. Subclasses implement ``handle``, ``serve``, ``on_tick``, ``crash``, ``recover``."""

    def __init__(self, name: str, cluster: Cluster) -> None:
        self.name = name
        self.cluster = cluster
        self.sim = cluster.sim
        self.net = cluster.net
        self.rng = cluster.rng
        self.peers = [n for n in cluster.names if n != name]
        self.majority = len(cluster.names) // 2 + 1
        self.alive = True
        self.paused = False
        self.incarnation = 0
        self.backlog: list[tuple[str, Any]] = []
        self.offset = 0
        self.strobe: Strobe | None = None
        self.messages_handled = 0
        self.wake_at = 0
        self.audit = cluster.audit

    # ------------------------------------------------------------ clock

    def wall_clock(self) -> int:
        """This node's idea of the time (ns): virtual time plus its skew."""
        now = self.sim.now
        t = now + self.offset
        if self.strobe is not None and (now // self.strobe.period) % 2:
            t += self.strobe.delta
        return t

    # ------------------------------------------------------------ gates

    def receive(self, src: str, msg: Any) -> None:
        """A client request arriving."""
        if not self.alive:
            return
        if self.paused:
            self.backlog.append((src, msg))
            return
        self._act(src, msg)

    def deliver(self, src: str, msg: Any) -> None:
        """A peer's message arriving; dropped if a partition now stands between them."""
        grudge = self.net.grudge
        if grudge:
            g = grudge.get(self.name)
            if g is not None and src in g:
                self.net.dropped += 1
                return
        if not self.alive:
            return
        if self.paused:
            self.backlog.append((src, msg))
            return
        audit = self.audit
        if audit is not None:
            audit.append((self.sim.now, "deliver", src, self.name))
        self.messages_handled += 1
        self.handle(src, msg)

    def _act(self, src: str, msg: Any) -> None:
        audit = self.audit
        if audit is not None:
            audit.append((self.sim.now, "deliver", src, self.name))
        self.messages_handled += 1
        if src == "client":
            self.on_request(msg)
        else:
            self.handle(src, msg)

    def _redeliver(self, incarnation: int, src: str, msg: Any) -> None:
        if incarnation != self.incarnation or not self.alive:
            return
        if self.paused:
            self.backlog.append((src, msg))
            return
        if src != "client" and self.net.blocked(src, self.name):
            return
        self._act(src, msg)

    def _tick(self, incarnation: int, at: int) -> None:
        if incarnation != self.incarnation or at != self.wake_at or not self.alive:
            return
        now = self.sim.now
        if self.paused:
            self._wake(now + TICK)
            return
        audit = self.audit
        if audit is not None:
            audit.append((now, "tick", self.name, self.name))
        self.on_tick()
        self._wake(max(self.next_wake(), now + 1))

    def _wake(self, at: int) -> None:
        self.wake_at = at
        self.sim.at(at, self._tick, self.incarnation, at)

    def wake_by(self, at: int) -> None:
        """Tick no later than ``at`` (a timer moved earlier); the later tick is dropped."""
        if at < self.wake_at:
            self._wake(at)

    def next_wake(self) -> int:
        """When ``on_tick`` next has something to do; every tick by default."""
        return self.sim.now + TICK

    def start_ticking(self) -> None:
        self._wake(self.sim.now + self.rng.randrange(TICK))

    # ------------------------------------------------------------ faults

    def kill(self) -> None:
        self.alive = False
        self.paused = False
        self.incarnation += 1
        self.backlog.clear()
        self.crash()

    def restart(self) -> None:
        if self.alive:
            return
        self.alive = True
        self.recover()
        self.start_ticking()

    def pause(self) -> None:
        if self.alive:
            self.paused = True

    def resume(self) -> None:
        if not self.paused:
            return
        self.paused = False
        backlog, self.backlog = self.backlog, []
        now = self.sim.now
        for src, msg in backlog:
            self.sim.at(now, self._redeliver, self.incarnation, src, msg)

    # ------------------------------------------------------------ messaging

    def send(self, dst: str, msg: Any) -> None:
        self.net.send(self.name, dst, msg)

    def broadcast(self, msg: Any) -> None:
        send = self.net.send
        for peer in self.peers:
            send(self.name, peer, msg)

    def reply(self, req: Request, typ: str, value: Any = None, error: Any = None) -> None:
        self.net.to_client(self.name, req, typ, value, error)

    def on_request(self, req: Request) -> None:
        if req.f == "read-node":
            self.reply(req, "ok", snapshot(self.local_state()))
            return
        self.serve(req)

    # ------------------------------------------------------------ for subclasses

    def handle(self, src: str, msg: Any) -> None:
        raise NotImplementedError

    def serve(self, req: Request) -> None:
        raise NotImplementedError

    def on_tick(self) -> None:
        raise NotImplementedError

    def crash(self) -> None:
        """Forget volatile state (the durable part stays)."""
        raise NotImplementedError

    def recover(self) -> None:
        """Rebuild volatile state from the durable part after a restart."""
        raise NotImplementedError

    def local_state(self) -> dict[Any, Any]:
        """Key -> value as this node sees it now, for convergence checks."""
        raise NotImplementedError

    def is_leader(self) -> bool:
        return False


def snapshot(state: dict[Any, Any]) -> list[list[Any]]:
    """A node's state as sorted [key, value] pairs (keys keep their JSON types)."""
    items = [[k, to_json(v)] for k, v in state.items()]
    items.sort(key=lambda kv: repr(kv[0]))
    return items


def to_json(value: Any) -> Any:
    """A state value as it goes to a client: tuples as lists, sets as sorted lists."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, frozenset):
        try:
            return sorted(value)
        except TypeError:
            return sorted(value, key=repr)
    return value


# ---------------------------------------------------------------- the replicated object


class StateMachine:
    """The object every mode replicates: registers (read/write/cas), sets, counters, queues,
    and Elle's list-append transactions (``txn``), applied atomically.

    ``kind`` comes from the workload: ``counter`` makes ``add`` an increment, otherwise
    ``add`` adds an element to a set. Values are immutable (tuples, frozensets), so replicas
    may share them.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.data: dict[Any, Any] = {}
        self.results: dict[int, tuple[str, Any, Any]] = {}
        """Each request's outcome by id: a duplicate (a resent message) gets the same answer."""

    def empty(self) -> Any:
        if self.kind == "counter":
            return 0
        if self.kind == "set":
            return frozenset()
        if self.kind in ("queue", "list"):
            return ()
        return None

    def get(self, key: Any) -> Any:
        v = self.data.get(key)
        return self.empty() if v is None else v

    def read(self, key: Any) -> Any:
        return to_json(self.get(key))

    def apply(self, req: Request) -> tuple[str, Any, Any]:
        """Apply once per request id; returns (type, value, error)."""
        done = self.results.get(req.rid)
        if done is not None:
            return done
        if req.f == "txn":
            typ, written, out, err = txn(self.data.get, req.value)
            self.data.update(written)
        else:
            typ, new, out, err = step(self.kind, self.get(req.key), req.f, req.value)
            if new is not SAME:
                self.data[req.key] = new
        self.results[req.rid] = (typ, out, err)
        return typ, out, err


SAME: Any = object()


def step(kind: str, current: Any, f: str, value: Any) -> tuple[str, Any, Any, Any]:
    """Pure semantics of one op: (type, new value or SAME, returned value, error)."""
    if f == "read":
        return "ok", SAME, to_json(current), None
    if f == "write":
        return "ok", value, value, None
    if f == "cas":
        old, new = value
        if current != old:
            return "fail", SAME, value, None
        return "ok", new, value, None
    if f == "add" and kind == "counter":
        return "ok", (current or 0) + value, value, None
    if f == "add":
        items = current or frozenset()
        try:
            if value in items:
                return "ok", SAME, value, None
        except TypeError:
            return "fail", SAME, value, f"unhashable set element {value!r}"
        return "ok", items | {value}, value, None
    if f == "enqueue":
        return "ok", (*tuple(current or ()), value), value, None
    if f == "dequeue":
        items = tuple(current or ())
        if not items:
            return "fail", SAME, None, "empty"
        return "ok", items[1:], items[0], None
    if f == "drain":
        items = tuple(current or ())
        return "ok", (), list(items), None
    return "fail", SAME, value, f"unsupported op {f!r}"


def txn(get: Callable[[Any], Any], mops: Any) -> tuple[str, dict[Any, tuple[Any, ...]], Any, Any]:
    """Elle's list-append micro-ops against lists read with ``get``, all or nothing:
    (type, the lists written by key, the completed micro-ops, error)."""
    if not isinstance(mops, list):
        return "fail", {}, mops, "txn value is not a list of micro-ops"
    written: dict[Any, tuple[Any, ...]] = {}
    out: list[list[Any]] = []
    for mop in mops:
        if not _is_mop(mop):
            return "fail", {}, mops, f"bad micro-op {mop!r}"
        f, k, v = mop
        current = written[k] if k in written else tuple(get(k) or ())
        if f == "append":
            written[k] = (*current, v)
            out.append([f, k, v])
        else:
            out.append([f, k, list(current)])
    return "ok", written, out, None


def _is_mop(mop: Any) -> bool:
    return (
        isinstance(mop, list)
        and len(mop) == 3
        and mop[0] in ("append", "r")
        and isinstance(mop[1], (int, str))
    )
