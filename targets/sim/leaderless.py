"""leaderless: Dynamo-style replication. Each key lives on ``n`` nodes of a ring; any node
coordinates a request. A write stamps the value with the coordinator's wall clock and is
acknowledged once ``w`` replicas stored it; a read asks the replicas, takes the newest of
``r`` answers (last writer wins) and, before answering, writes that value back until ``w``
replicas hold it (blocking read repair). A coordinator that cannot gather its quorum within
1 s answers ``info``. Anti-entropy pushes every node's keys to their replicas each second.

With ``-o sloppy=true`` a coordinator that believes a replica down (no message for 300 ms)
writes to the next live node on the ring instead, with a hint; the hint is handed off when
the replica is back. Compare-and-set, sets, counters and queues are refused (``fail``):
a quorum system without consensus cannot do them atomically.

Claim: with R+W>N and no faults, linearizable reads and writes; stale reads under
partitions with sloppy quorums; converges after heal.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from splitbrain.targets.sim.nodes import MS, Node, Request

PING_EVERY = 100 * MS
SUSPECT_AFTER = 300 * MS
COORD_TIMEOUT = 1000 * MS
HANDOFF_EVERY = 200 * MS
ANTI_ENTROPY = 1000 * MS

Stamp = tuple[int, str]
Item = tuple[Any, Any, Stamp]


@dataclass(slots=True)
class Put:
    op: int
    key: Any
    value: Any
    stamp: Stamp
    hint_for: str | None = None


@dataclass(slots=True)
class PutAck:
    op: int


@dataclass(slots=True)
class Get:
    op: int
    key: Any


@dataclass(slots=True)
class GetReply:
    op: int
    value: Any
    stamp: Stamp | None


@dataclass(slots=True)
class Ping:
    pass


@dataclass(slots=True)
class Handoff:
    items: tuple[Item, ...]


@dataclass(slots=True)
class HandoffAck:
    items: tuple[Item, ...]


@dataclass(slots=True)
class Sync:
    items: tuple[Item, ...]


@dataclass(slots=True)
class Coord:
    """A request this node coordinates."""

    req: Request
    targets: list[str]
    deadline: int
    stamp: Stamp | None = None
    value: Any = None
    acks: set[str] = field(default_factory=set)
    replies: dict[str, tuple[Any, Stamp | None]] = field(default_factory=dict)
    repairing: bool = False
    hints: dict[str, str | None] = field(default_factory=dict)


def key_hash(key: Any) -> int:
    if isinstance(key, int):
        return key
    return zlib.crc32(repr(key).encode())


class LeaderlessNode(Node):
    def __init__(self, name: str, cluster: Any) -> None:
        super().__init__(name, cluster)
        cfg = cluster.config
        self.n, self.r, self.w, self.sloppy = cfg.n, cfg.r, cfg.w, cfg.sloppy
        self.ring = list(cluster.names)
        self.store: dict[Any, tuple[Any, Stamp]] = {}
        self.hints: dict[str, dict[Any, tuple[Any, Stamp]]] = {}
        self._handlers = {
            Put: self._on_put,
            PutAck: self._on_put_ack,
            Get: self._on_get,
            GetReply: self._on_get_reply,
            Ping: lambda src, m: None,
            Handoff: self._on_handoff,
            HandoffAck: self._on_handoff_ack,
            Sync: self._on_sync,
        }
        self.next_op = 0
        self.recover()

    # ------------------------------------------------------------ lifecycle

    def recover(self) -> None:
        now = self.sim.now
        self.ops: dict[int, Coord] = {}
        self.heard = dict.fromkeys(self.peers, now)
        self.next_ping = now
        self.next_handoff = now + HANDOFF_EVERY
        self.next_sync = now + self.rng.randrange(ANTI_ENTROPY)

    def crash(self) -> None:
        self.ops = {}

    def local_state(self) -> dict[Any, Any]:
        return {k: v for k, (v, _) in self.store.items()}

    # ------------------------------------------------------------ placement

    def preference(self, key: Any) -> list[str]:
        start = key_hash(key) % len(self.ring)
        return self.ring[start:] + self.ring[:start]

    def _up(self, node: str) -> bool:
        return node == self.name or self.sim.now - self.heard[node] <= SUSPECT_AFTER

    def _placement(self, key: Any) -> list[tuple[str, str | None]]:
        """(node, hint_for) pairs: the key's replicas, or with sloppy quorums live stand-ins."""
        pref = self.preference(key)
        home = pref[: self.n]
        if not self.sloppy:
            return [(node, None) for node in home]
        down = [node for node in home if not self._up(node)]
        spares = [node for node in pref[self.n :] if self._up(node)]
        out = [(node, None) for node in home if self._up(node)]
        for missing, spare in zip(down, spares, strict=False):
            out.append((spare, missing))
        return out

    # ------------------------------------------------------------ coordinating

    def serve(self, req: Request) -> None:
        if req.f not in ("read", "write"):
            self.reply(req, "fail", req.value, f"unsupported: leaderless has no {req.f!r}")
            return
        self.next_op += 1
        op = self.next_op
        placement = self._placement(req.key)
        coord = Coord(req, [node for node, _ in placement], self.sim.now + COORD_TIMEOUT)
        coord.hints = dict(placement)
        self.ops[op] = coord
        if req.f == "write":
            coord.stamp = (self.wall_clock(), self.name)
            coord.value = req.value
            for node, hint in placement:
                self.send(node, Put(op, req.key, req.value, coord.stamp, hint))
        else:
            for node in coord.targets:
                self.send(node, Get(op, req.key))

    def _on_put_ack(self, src: str, m: PutAck) -> None:
        coord = self.ops.get(m.op)
        if coord is None:
            return
        coord.acks.add(src)
        if len(coord.acks) >= self.w:
            del self.ops[m.op]
            req = coord.req
            self.reply(req, "ok", req.value if req.f == "write" else coord.value, None)

    def _on_get_reply(self, src: str, m: GetReply) -> None:
        coord = self.ops.get(m.op)
        if coord is None or coord.repairing:
            return
        coord.replies[src] = (m.value, m.stamp)
        if len(coord.replies) < self.r:
            return
        best_value, best_stamp = None, None
        for value, stamp in coord.replies.values():
            if stamp is not None and (best_stamp is None or stamp > best_stamp):
                best_value, best_stamp = value, stamp
        holders = {n for n, (_, s) in coord.replies.items() if s == best_stamp}
        if best_stamp is None or len(holders) >= self.w:
            del self.ops[m.op]
            self._repair(coord, holders, best_value, best_stamp, only_stale=True)
            self.reply(coord.req, "ok", best_value, None)
            return
        coord.repairing = True
        coord.acks = holders
        coord.value = best_value
        self._repair(coord, holders, best_value, best_stamp, only_stale=False, op=m.op)

    def _repair(
        self,
        coord: Coord,
        holders: set[str],
        value: Any,
        stamp: Stamp | None,
        only_stale: bool,
        op: int = 0,
    ) -> None:
        if stamp is None:
            return
        nodes = sorted(coord.replies) if only_stale else coord.targets
        for node in nodes:
            if node not in holders:
                self.send(node, Put(op, coord.req.key, value, stamp, coord.hints.get(node)))

    # ------------------------------------------------------------ replica side

    def _store(self, key: Any, value: Any, stamp: Stamp) -> None:
        held = self.store.get(key)
        if held is None or stamp > held[1]:
            self.store[key] = (value, stamp)

    def _on_put(self, src: str, m: Put) -> None:
        if m.hint_for is not None and m.hint_for != self.name:
            hinted = self.hints.setdefault(m.hint_for, {})
            held = hinted.get(m.key)
            if held is None or m.stamp > held[1]:
                hinted[m.key] = (m.value, m.stamp)
        else:
            self._store(m.key, m.value, m.stamp)
        if m.op:
            self.send(src, PutAck(m.op))

    def _on_get(self, src: str, m: Get) -> None:
        held = self.store.get(m.key)
        if held is None:
            self.send(src, GetReply(m.op, None, None))
        else:
            self.send(src, GetReply(m.op, held[0], held[1]))

    def _on_handoff(self, src: str, m: Handoff) -> None:
        for key, value, stamp in m.items:
            self._store(key, value, stamp)
        self.send(src, HandoffAck(m.items))

    def _on_handoff_ack(self, src: str, m: HandoffAck) -> None:
        hinted = self.hints.get(src)
        if hinted is None:
            return
        for key, _, stamp in m.items:
            held = hinted.get(key)
            if held is not None and held[1] == stamp:
                del hinted[key]
        if not hinted:
            del self.hints[src]

    def _on_sync(self, src: str, m: Sync) -> None:
        for key, value, stamp in m.items:
            self._store(key, value, stamp)

    def handle(self, src: str, msg: Any) -> None:
        self.heard[src] = self.sim.now
        self._handlers[type(msg)](src, msg)

    # ------------------------------------------------------------ timers

    def on_tick(self) -> None:
        now = self.sim.now
        if now >= self.next_ping:
            self.next_ping = now + PING_EVERY
            self.broadcast(Ping())
        self._expire(now)
        if now >= self.next_handoff:
            self.next_handoff = now + HANDOFF_EVERY
            self._hand_off()
        if now >= self.next_sync:
            self.next_sync = now + ANTI_ENTROPY
            self._anti_entropy()

    def _expire(self, now: int) -> None:
        late = [op for op, c in self.ops.items() if c.deadline <= now]
        for op in late:
            coord = self.ops.pop(op)
            self.reply(
                coord.req,
                "info",
                coord.req.value if coord.req.f == "write" else None,
                "quorum timeout",
            )

    def _hand_off(self) -> None:
        for node in sorted(self.hints):
            if self._up(node) and self.hints[node]:
                items = tuple((k, v, s) for k, (v, s) in self.hints[node].items())
                self.send(node, Handoff(items))

    def _anti_entropy(self) -> None:
        if not self.store:
            return
        by_peer: dict[str, list[Item]] = {}
        for key, (value, stamp) in self.store.items():
            for node in self.preference(key)[: self.n]:
                if node != self.name:
                    by_peer.setdefault(node, []).append((key, value, stamp))
        for node in sorted(by_peer):
            self.send(node, Sync(tuple(by_peer[node])))
