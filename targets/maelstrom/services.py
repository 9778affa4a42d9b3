"""The services Maelstrom offers to nodes, run inside the router: ``lin-kv``, ``seq-kv``,
``lww-kv`` and ``lin-tso``.

A service answers one request body with one reply body (``in_reply_to`` is added by the
router). Semantics chosen, where Maelstrom's documentation leaves room:

- ``lin-kv``: one map, every request applied atomically on arrival: linearizable.
- ``seq-kv``: every update is applied to the newest state, in one total order, and
  numbered; a node's read sees the key as of a version between the oldest it may still
  see (the newest it has already observed, by its own updates and earlier reads, and no
  older than the last 32 versions, Maelstrom's buffer) and the newest. Which one: the
  oldest, unless the node's previous request was a read that took the oldest while a
  newer one existed; then one at random, as Maelstrom's seq-kv does, so a node that keeps
  reading still catches up. Maelstrom's seq-kv may be stale; this one is whenever it may,
  so a client that trusts one read (a lin-kv proxy) is caught, whatever the timing, by a
  write through one node followed by a read of that key through another node whose last
  request was not itself a stale read. Each node's view only moves forward, and it sees
  its own writes: sequentially consistent.
- ``lww-kv``: five replicas; each request goes to one at random. A write is stamped with
  the router's clock plus up to 10 ms of skew; before answering, a replica merges the
  others' state (higher stamp wins) with probability 0.25. ``cas`` compares against the
  chosen replica's possibly stale value. Not even sequentially consistent, on purpose.
- ``lin-tso``: ``ts`` is answered with ``ts_ok`` and a strictly increasing integer.

Error codes as Maelstrom's: 10 not-supported, 12 malformed-request, 20 key-does-not-exist,
22 precondition-failed. ``cas`` with ``create_if_not_exists: true`` creates a missing key.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable
from typing import Any, Protocol

Body = dict[str, Any]
NOT_SUPPORTED, MALFORMED, KEY_MISSING, PRECONDITION = 10, 12, 20, 22
LWW_REPLICAS = 5
LWW_SKEW_NS = 10_000_000
LWW_MERGE_P = 0.25
SEQ_KV_WINDOW = 32
"""Versions a seq-kv read may reach back (Maelstrom keeps the last 32 states)."""


def error(code: int, text: str) -> Body:
    return {"type": "error", "code": code, "text": text}


def _hashable_key(key: Any) -> Any:
    return repr(key) if isinstance(key, (list, dict)) else key


class Service(Protocol):
    def handle(self, src: str, body: Body, now_ns: int) -> Body: ...


def _kv_dispatch(
    body: Body,
    read: Callable[[Any], Body],
    write: Callable[[Any, Any], Body],
    cas: Callable[[Any, Any, Any, bool], Body],
) -> Body:
    kind = body.get("type")
    if kind not in ("read", "write", "cas"):
        return error(NOT_SUPPORTED, f"kv services do not support {kind!r}")
    if "key" not in body:
        return error(MALFORMED, f"{kind} needs a key")
    key = _hashable_key(body["key"])
    if kind == "read":
        return read(key)
    if kind == "write":
        if "value" not in body:
            return error(MALFORMED, "write needs a value")
        return write(key, body["value"])
    if "from" not in body or "to" not in body:
        return error(MALFORMED, "cas needs from and to")
    return cas(key, body["from"], body["to"], bool(body.get("create_if_not_exists")))


def _cas_on(current: Any, present: bool, key: Any, frm: Any, create: bool) -> Body | None:
    """The error a cas gets against ``current``, or None when it applies."""
    if not present and not create:
        return error(KEY_MISSING, f"key {key!r} does not exist")
    if present and current != frm:
        return error(PRECONDITION, f"expected {frm!r}, but had {current!r}")
    return None


class LinKV:
    def __init__(self, rng: random.Random) -> None:
        self.data: dict[Any, Any] = {}

    def handle(self, src: str, body: Body, now_ns: int) -> Body:
        return _kv_dispatch(body, self._read, self._write, self._cas)

    def _read(self, key: Any) -> Body:
        if key not in self.data:
            return error(KEY_MISSING, f"key {key!r} does not exist")
        return {"type": "read_ok", "value": self.data[key]}

    def _write(self, key: Any, value: Any) -> Body:
        self.data[key] = value
        return {"type": "write_ok"}

    def _cas(self, key: Any, frm: Any, to: Any, create: bool) -> Body:
        refused = _cas_on(self.data.get(key), key in self.data, key, frm, create)
        if refused is not None:
            return refused
        self.data[key] = to
        return {"type": "cas_ok"}


class SeqKV:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.version = 0
        self.history: dict[Any, tuple[list[int], list[Any]]] = {}
        """Per key: the versions that wrote it, and the values written."""
        self.seen: dict[str, int] = {}
        self.lagged: set[str] = set()
        """Nodes whose previous request was a read that took the oldest of several versions."""
        self.src = ""

    def handle(self, src: str, body: Body, now_ns: int) -> Body:
        self.src = src
        return _kv_dispatch(body, self._read, self._write, self._cas)

    def _at(self, key: Any, version: int) -> tuple[bool, Any]:
        versions, values = self.history.get(key, ((), ()))
        i = bisect.bisect_right(versions, version)
        return (True, values[i - 1]) if i else (False, None)

    def _read_version(self) -> int:
        """The version a read by ``src`` sees (see the module's docstring)."""
        oldest = max(self.seen.get(self.src, 0), self.version - SEQ_KV_WINDOW + 1)
        if self.src in self.lagged:
            self.lagged.discard(self.src)
            return self.rng.randint(oldest, self.version)
        if oldest < self.version:
            self.lagged.add(self.src)
        return oldest

    def _read(self, key: Any) -> Body:
        at = self._read_version()
        self.seen[self.src] = at
        present, value = self._at(key, at)
        if not present:
            return error(KEY_MISSING, f"key {key!r} does not exist")
        return {"type": "read_ok", "value": value}

    def _apply(self, key: Any, value: Any) -> None:
        self.version += 1
        versions, values = self.history.setdefault(key, ([], []))
        versions.append(self.version)
        values.append(value)
        self._observe_newest()

    def _observe_newest(self) -> None:
        self.seen[self.src] = self.version
        self.lagged.discard(self.src)

    def _write(self, key: Any, value: Any) -> Body:
        self._apply(key, value)
        return {"type": "write_ok"}

    def _cas(self, key: Any, frm: Any, to: Any, create: bool) -> Body:
        present, current = self._at(key, self.version)
        self._observe_newest()
        refused = _cas_on(current, present, key, frm, create)
        if refused is not None:
            return refused
        self._apply(key, to)
        return {"type": "cas_ok"}


class LwwKV:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.replicas: list[dict[Any, tuple[int, Any]]] = [{} for _ in range(LWW_REPLICAS)]
        self.replica: dict[Any, tuple[int, Any]] = {}
        self.now = 0

    def handle(self, src: str, body: Body, now_ns: int) -> Body:
        self.now = now_ns
        self.replica = self.rng.choice(self.replicas)
        if self.rng.random() < LWW_MERGE_P:
            for other in self.replicas:
                for key, stamped in other.items():
                    if key not in self.replica or self.replica[key][0] < stamped[0]:
                        self.replica[key] = stamped
        return _kv_dispatch(body, self._read, self._write, self._cas)

    def _stamp(self) -> int:
        return self.now + self.rng.randint(-LWW_SKEW_NS, LWW_SKEW_NS)

    def _read(self, key: Any) -> Body:
        if key not in self.replica:
            return error(KEY_MISSING, f"key {key!r} does not exist")
        return {"type": "read_ok", "value": self.replica[key][1]}

    def _write(self, key: Any, value: Any) -> Body:
        self.replica[key] = (self._stamp(), value)
        return {"type": "write_ok"}

    def _cas(self, key: Any, frm: Any, to: Any, create: bool) -> Body:
        stamped = self.replica.get(key)
        refused = _cas_on(stamped and stamped[1], stamped is not None, key, frm, create)
        if refused is not None:
            return refused
        self.replica[key] = (self._stamp(), to)
        return {"type": "cas_ok"}


class LinTSO:
    def __init__(self, rng: random.Random) -> None:
        self.last = 0

    def handle(self, src: str, body: Body, now_ns: int) -> Body:
        if body.get("type") != "ts":
            return error(NOT_SUPPORTED, f"lin-tso supports only ts, not {body.get('type')!r}")
        self.last += 1
        return {"type": "ts_ok", "ts": self.last}


SERVICES: dict[str, Callable[[random.Random], Service]] = {
    "lin-kv": LinKV,
    "seq-kv": SeqKV,
    "lww-kv": LwwKV,
    "lin-tso": LinTSO,
}
