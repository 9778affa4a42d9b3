"""multi-leader: every node accepts every operation locally, stamps the new value with its own
wall clock, acknowledges at once, and pushes the update to all peers; every 500 ms it also
pushes its whole state (anti-entropy, which repairs what partitions and loss dropped).
Conflicts: last writer wins by (timestamp, node name). The store is durable across a kill.

Claim: loses updates under clock skew (a node whose clock is behind writes values older
than what they overwrite); converges after heal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from splitbrain.targets.sim.nodes import MS, SAME, Node, Request, StateMachine, step, to_json, txn

ANTI_ENTROPY = 500 * MS

Stamp = tuple[int, str]


@dataclass(slots=True)
class Update:
    items: tuple[tuple[Any, Any, Stamp], ...]


def newer(a: Stamp | None, b: Stamp | None) -> bool:
    return b is None or (a is not None and a > b)


class MultiLeaderNode(Node):
    def __init__(self, name: str, cluster: Any) -> None:
        super().__init__(name, cluster)
        self.store: dict[Any, tuple[Any, Stamp]] = {}
        self.empty = StateMachine(cluster.kind).empty()
        self.recover()

    def recover(self) -> None:
        self.next_sync = self.sim.now + self.rng.randrange(ANTI_ENTROPY)

    def crash(self) -> None:
        """The store is on disk; nothing volatile matters."""

    def local_state(self) -> dict[Any, Any]:
        return {k: v for k, (v, _) in self.store.items()}

    def _stamp(self) -> Stamp:
        return (self.wall_clock(), self.name)

    def serve(self, req: Request) -> None:
        if req.f == "txn":
            self._serve_txn(req)
            return
        held = self.store.get(req.key)
        current = self.empty if held is None else held[0]
        typ, new, out, err = step(self.cluster.kind, current, req.f, req.value)
        if typ == "ok" and new is not SAME:
            item = (req.key, new, self._stamp())
            self._merge(item)
            self.broadcast(Update((item,)))
        self.reply(req, typ, to_json(out), err)

    def _serve_txn(self, req: Request) -> None:
        """Apply the transaction locally, each list it wrote stamped alike, and push them."""
        typ, written, out, err = txn(self._value, req.value)
        if written:
            stamp = self._stamp()
            items = tuple((k, v, stamp) for k, v in written.items())
            for item in items:
                self._merge(item)
            self.broadcast(Update(items))
        self.reply(req, typ, out, err)

    def _value(self, key: Any) -> Any:
        held = self.store.get(key)
        return None if held is None else held[0]

    def _merge(self, item: tuple[Any, Any, Stamp]) -> None:
        key, value, stamp = item
        held = self.store.get(key)
        if held is None or newer(stamp, held[1]):
            self.store[key] = (value, stamp)

    def handle(self, src: str, msg: Any) -> None:
        for item in msg.items:
            self._merge(item)

    def on_tick(self) -> None:
        if self.sim.now < self.next_sync:
            return
        self.next_sync = self.sim.now + ANTI_ENTROPY
        if self.store:
            items = tuple((k, v, s) for k, (v, s) in self.store.items())
            self.broadcast(Update(items))
