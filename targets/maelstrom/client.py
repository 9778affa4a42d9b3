"""Operations to Maelstrom request bodies and replies back to completions, per declared
operation (``OPERATIONS``).

Replies are checked strictly against the operation's reply schema (Maelstrom's, from its
workload documentation): the reply type, ``in_reply_to``, an integer ``msg_id`` if present,
and each field with its type. A malformed reply makes the op ``info`` (it may have
happened) with the offending body in ``error``. Error replies follow Maelstrom's table:
definite codes make the op ``fail``, every other code (0 timeout, 13 crash, codes >= 1000,
unknown ones) ``info``. An op whose outcome is unknown but that changes nothing (a read)
is ``fail`` instead, as in Maelstrom: it certainly had no effect.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from queue import Empty
from typing import Any, Protocol

from splitbrain.harness.base.history import Op
from splitbrain.harness.base.protocols import bare_f
from splitbrain.targets.maelstrom.remote import Client, RouterProcess

Body = dict[str, Any]
DEFINITE_ERRORS = {
    1: "node-not-found",
    10: "not-supported",
    11: "temporarily-unavailable",
    12: "malformed-request",
    14: "abort",
    20: "key-does-not-exist",
    21: "key-already-exists",
    22: "precondition-failed",
    30: "txn-conflict",
}
INDEFINITE_ERRORS = {0: "timeout", 13: "crash"}
IDEMPOTENT = frozenset({"read", "final-read", "poll", "assign"})
KEY_DOES_NOT_EXIST = 20


class Malformed(ValueError):
    """A reply that does not match the workload's schema."""


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def field(body: Body, name: str, check: Callable[[Any], bool] | None = None, what: str = "") -> Any:
    if name not in body:
        raise Malformed(f"reply has no {name!r}")
    value = body[name]
    if check is not None and not check(value):
        raise Malformed(f"reply field {name!r} must be {what}, got {value!r}")
    return value


def _list(v: Any) -> bool:
    return isinstance(v, list)


def _mop_ok(sent: list[Any], got: Any, read_ok: Callable[[Any], bool]) -> bool:
    if not isinstance(got, list) or len(got) != 3 or got[0] != sent[0] or got[1] != sent[1]:
        return False
    if sent[0] == "r":
        return got[2] is None or read_ok(got[2])
    return got[2] == sent[2]


def _txn_of(read_ok: Callable[[Any], bool]) -> Callable[[Op, Body], Any]:
    """The reply's micro-ops, each the request's with a read's value ``read_ok`` (or null)."""

    def value(op: Op, body: Body) -> Any:
        got = field(body, "txn", _list, "a list of micro-ops")
        sent = op.value
        if len(got) != len(sent) or not all(
            _mop_ok(s, g, read_ok) for s, g in zip(sent, got, strict=True)
        ):
            raise Malformed("reply txn does not match the request's micro-ops")
        return got

    return value


@dataclass(frozen=True)
class Rpc:
    """One kind of request: its body from the op, its reply type, and the op's value from the reply."""

    request: Callable[[Op], Body]
    reply: str
    value: Callable[[Op, Body], Any]
    missing_is_nil: bool = False
    """Error 20 (key does not exist) is a read of nothing: lin-kv's read."""


def _none(op: Op, body: Body) -> Any:
    return op.value


def _read_list(name: str) -> Callable[[Op, Body], Any]:
    return lambda op, body: field(body, name, _list, "a list")


_READ_INT = Rpc(
    lambda op: {"type": "read"},
    "read_ok",
    lambda op, body: field(body, "value", is_int, "an integer"),
)

OPERATIONS: dict[str, Rpc] = {
    "echo": Rpc(
        lambda op: {"type": "echo", "echo": op.value},
        "echo_ok",
        lambda op, body: field(body, "echo"),
    ),
    "generate": Rpc(
        lambda op: {"type": "generate"}, "generate_ok", lambda op, body: field(body, "id")
    ),
    "broadcast.add": Rpc(
        lambda op: {"type": "broadcast", "message": op.value}, "broadcast_ok", _none
    ),
    "broadcast.read": Rpc(lambda op: {"type": "read"}, "read_ok", _read_list("messages")),
    "set.add": Rpc(lambda op: {"type": "add", "element": op.value}, "add_ok", _none),
    "set.read": Rpc(lambda op: {"type": "read"}, "read_ok", _read_list("value")),
    "counter.add": Rpc(lambda op: {"type": "add", "delta": op.value}, "add_ok", _none),
    "counter.read": _READ_INT,
    "counter.final-read": _READ_INT,
    "read": Rpc(
        lambda op: {"type": "read", "key": op.key},
        "read_ok",
        lambda op, body: field(body, "value"),
        missing_is_nil=True,
    ),
    "write": Rpc(lambda op: {"type": "write", "key": op.key, "value": op.value}, "write_ok", _none),
    "cas": Rpc(
        lambda op: {"type": "cas", "key": op.key, "from": op.value[0], "to": op.value[1]},
        "cas_ok",
        _none,
    ),
    "txn": Rpc(lambda op: {"type": "txn", "txn": op.value}, "txn_ok", _txn_of(_list)),
    "rw.txn": Rpc(lambda op: {"type": "txn", "txn": op.value}, "txn_ok", _txn_of(is_int)),
}
"""Each declared operation and its Maelstrom RPC (Maelstrom's workload documentation):
g-set and splitbrain's set workload share ``set.*``, both counters ``counter.*``, lin-kv and
the register workload ``read``/``write``/``cas``, txn-list-append and list-append ``txn``,
txn-rw-register and rw-register ``rw.txn`` (read values integers, not lists)."""
KAFKA_OPERATIONS = frozenset({"send", "poll", "assign"})
"""Kafka's operations take several requests each (``targets.maelstrom.kafka``)."""
ALL_OPERATIONS = frozenset(OPERATIONS) | KAFKA_OPERATIONS


def codec(operations: frozenset[str]) -> dict[str, Rpc]:
    """The run's RPCs by the bare ``f`` its ops are invoked with."""
    return {bare_f(op): OPERATIONS[op] for op in operations if op in OPERATIONS}


def _unknown_outcome(op: Op, error: Any) -> Op:
    return op.completion("fail" if op.f in IDEMPOTENT else "info", op.value, error=error)


def complete(rpc: Rpc, op: Op, body: Body, node: str) -> Op:
    """The completion of ``op`` from the reply ``body`` (already matched by ``in_reply_to``)."""
    missing = body.get("type") == "error" and body.get("code") == KEY_DOES_NOT_EXIST
    if rpc.missing_is_nil and missing:
        return op.completion("ok", None, node=node)
    return judge(op, body, node, rpc.reply, lambda b: rpc.value(op, b))


def judge(op: Op, body: Body, node: str, reply: str, value: Callable[[Body], Any]) -> Op:
    """``op`` completed by ``body``: an error by its code, a ``reply`` by its schema."""
    try:
        if "msg_id" in body and not is_int(body["msg_id"]):
            raise Malformed(f"reply msg_id must be an integer, got {body['msg_id']!r}")
        kind = body.get("type")
        if kind == "error":
            code = field(body, "code", is_int, "an integer")
            error = {"code": code, "name": DEFINITE_ERRORS.get(code) or INDEFINITE_ERRORS.get(code)}
            if "text" in body:
                error["text"] = body["text"]
            if code in DEFINITE_ERRORS:
                return op.completion("fail", op.value, node=node, error=error)
            return _unknown_outcome(op, error)
        if kind != reply:
            raise Malformed(f"expected a {reply} or error reply, got type {kind!r}")
        return op.completion("ok", value(body), node=node)
    except Malformed as e:
        return _unknown_outcome(op, {"malformed-reply": str(e), "body": body})


class ClientIds:
    """Client ids c0, c1, ... for one run."""

    def __init__(self) -> None:
        self._next = itertools.count()

    def __call__(self) -> str:
        return f"c{next(self._next)}"


def rpc(
    router: RouterProcess, client: Client, dest: str, body: Body, timeout: float
) -> Body | None:
    """Send ``body`` (with its ``msg_id``) and wait for the reply to it; None on timeout.
    Late replies to earlier requests are skipped; a reply without an integer ``in_reply_to``
    is taken as the answer (and judged malformed), since a client has one request out."""
    msg_id = body["msg_id"]
    router.client_send(client, dest, body)
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            reply = client.replies.get(timeout=left)
        except Empty:
            return None
        irt = reply.get("in_reply_to")
        if irt == msg_id and is_int(irt):
            return reply
        if not is_int(irt):
            reply = dict(reply)
            reply.setdefault("_malformed", "in_reply_to missing or not an integer")
            return reply


class Session(Protocol):
    """A workload whose ops take several requests and keep state per process (kafka)."""

    def invoke(self, op: Op, call: Callable[[Body, str, Callable[[Body], Any]], Op]) -> Op: ...


class MaelstromClient:
    """A worker's client: one id, bound to one node, one request at a time."""

    def __init__(
        self,
        router: RouterProcess,
        client_id: str,
        node: str,
        rpcs: dict[str, Rpc],
        timeout: float,
        on_invoke: Callable[[], None],
        session: Session | None = None,
    ) -> None:
        self.router = router
        self.client = router.new_client(client_id)
        self.node = node
        self.rpcs = rpcs
        self.timeout = timeout
        self.on_invoke = on_invoke
        self.session = session
        self.msg_ids = itertools.count(1)

    def invoke(self, op: Op) -> Op:
        self.on_invoke()
        if self.session is not None:
            return self.session.invoke(
                op, lambda body, reply, value: self._call(op, None, body, reply, value)
            )
        kind = self.rpcs.get(op.f)
        if kind is None:
            return op.completion("fail", op.value, error=f"this run declares no operation {op.f!r}")
        return self._call(op, kind, kind.request(op), kind.reply, lambda b: kind.value(op, b))

    def _call(
        self,
        op: Op,
        rpc_kind: Rpc | None,
        body: Body,
        reply_type: str,
        value: Callable[[Body], Any],
    ) -> Op:
        body = body | {"msg_id": next(self.msg_ids)}
        reply = rpc(self.router, self.client, self.node, body, self.timeout)
        if reply is None:
            return _unknown_outcome(op, {"code": 0, "name": "timeout"})
        if "_malformed" in reply:
            bad = {k: v for k, v in reply.items() if k != "_malformed"}
            return _unknown_outcome(op, {"malformed-reply": reply["_malformed"], "body": bad})
        if rpc_kind is not None:
            return complete(rpc_kind, op, reply, self.node)
        return judge(op, reply, self.node, reply_type, value)

    def close(self) -> None:
        self.router.drop_client(self.client)
