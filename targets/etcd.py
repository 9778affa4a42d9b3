"""A real etcd cluster (Debian's etcd-server 3.4), one member per node.

Clients speak etcd's v3 JSON gateway over HTTP with explicit timeouts. Keys and values
are base64 in the gateway; values are stored as JSON text. ``-o reads=serializable``
makes reads serializable (served by the member alone, possibly stale).

Workloads: register (``range`` reads, ``put`` writes, a ``txn`` comparing the value for
compare-and-set); set (one key per element under a prefix, read by a range over it);
counter (read, then a ``txn`` comparing the key's mod_revision, retried on conflict);
list-append (read every touched key in one ``txn``, apply the micro-ops locally, then a
``txn`` that puts the new lists only if no touched key's mod_revision moved). etcd is no
queue: the queue workload is refused before anything starts.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import requests

from splitbrain.harness.base.history import Op
from splitbrain.harness.base.options import option_choice
from splitbrain.harness.base.protocols import HarnessInputError, data_type
from splitbrain.targets.server import ClientContext, Server, ServerNode, ServerTarget

CLIENT_PORT = 2379
PEER_PORT = 2380
CONNECT_TIMEOUT = 1.0
REQUEST_TIMEOUT = 3.0
READS = ("linearizable", "serializable")
OPERATIONS = frozenset(
    {"read", "write", "cas", "set.add", "set.read", "counter.add", "counter.read", "txn"}
)
"""What the client implements; etcd is no queue."""
CONFLICT_ATTEMPTS = 8
"""Read-then-txn attempts before an op whose compare keeps failing gives up as ``fail``."""
CONFLICT_BUDGET = 5.0
"""Seconds an op may spend on such attempts, so a retried op stays within the op timeout."""
SET_PREFIX = "set/"
COUNTER_KEY = "counter"

DEFINITE_ERRORS = (
    "no leader",
    "not capable",
    "too many requests",
    "permission denied",
    "key not found",
)
"""Errors etcd states before it proposes anything: the op certainly did not happen."""


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def unb64(text: str) -> str:
    return base64.b64decode(text).decode()


def encode_key(key: Any) -> str:
    return b64(f"k/{key}")


def encode_value(value: Any) -> str:
    return b64(json.dumps(value))


def list_key(key: Any) -> str:
    return encode_key(f"la/{key}")


def decode_value(kv: dict[str, Any]) -> Any:
    return json.loads(unb64(kv["value"])) if kv.get("value") else None


def prefix_end(prefix: str) -> str:
    """The range end covering every key that starts with ``prefix`` (its last byte plus one)."""
    raw = prefix.encode()
    return base64.b64encode(raw[:-1] + bytes([raw[-1] + 1])).decode()


def mod_revision(kv: dict[str, Any] | None) -> int:
    """A key's mod_revision (0 for a key that does not exist, which etcd compares as such)."""
    if not kv:
        return 0
    return int(kv.get("mod_revision") or kv.get("modRevision") or 0)


ETCD = Server(
    name="etcd",
    command=(
        "{etcd-binary}",
        "--name", "{name}",
        "--data-dir", "{data_dir}",
        "--listen-peer-urls", f"http://{{address}}:{PEER_PORT}",
        "--initial-advertise-peer-urls", f"http://{{address}}:{PEER_PORT}",
        "--listen-client-urls", "http://{address}:{port}",
        "--advertise-client-urls", "http://{address}:{port}",
        "--initial-cluster", "{initial_cluster}",
        "--initial-cluster-state", "new",
        "--initial-cluster-token", "splitbrain-{run_id}",
        "--heartbeat-interval", "100",
        "--election-timeout", "1000",
        "--logger", "zap",
    ),
    port=CLIENT_PORT,
    package="etcd-server",
)  # fmt: skip


class EtcdTarget(ServerTarget):
    name = "etcd"
    options = {"nodes": "3", "reads": "linearizable", "etcd-binary": "/usr/bin/etcd"}
    operations = OPERATIONS
    server = ETCD

    def configure(self, options: dict[str, str]) -> None:
        super().configure(options)
        self.reads = option_choice(self.settings, "reads", READS)
        if not self.settings["etcd-binary"]:
            raise HarnessInputError("-o etcd-binary= must name the etcd executable")

    def placeholders(
        self, node: ServerNode, server: Server, cluster: Sequence[ServerNode]
    ) -> dict[str, str]:
        members = ",".join(f"{n.name}=http://{n.address}:{PEER_PORT}" for n in cluster)
        return {"initial_cluster": members}

    def after_start(self) -> None:
        """Wait until a write commits, so the cluster has a leader before clients start."""
        first = self.cluster()[0]
        client = EtcdClient(url(first), first.name, "linearizable")
        try:
            for _ in range(100):
                done = client.invoke(Op("invoke", "write", 0, value=0, key="__splitbrain_ready"))
                if done.type == "ok":
                    return
                client.session.close()
                time.sleep(0.2)
        finally:
            client.close()
        raise RuntimeError(f"etcd: no write committed within 20s; logs in {self.log_dir}")

    def new_client(self, ctx: ClientContext) -> EtcdClient:
        return EtcdClient(url(ctx.node), ctx.node.name, self.reads, data_type(ctx.operations))


def url(node: ServerNode) -> str:
    return f"http://{node.address}:{node.port}"


class EtcdClient:
    """One connection (session) to one member; every request has a connect and read timeout."""

    def __init__(self, base_url: str, node: str, reads: str, data: str = "register") -> None:
        self.base_url = base_url
        self.node = node
        self.serializable = reads == "serializable"
        self.session = requests.Session()
        self._perform: Callable[[Op], Op] = {
            "register": self._register,
            "set": self._set,
            "counter": self._counter,
            "list-append": self._list_append,
        }[data]

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.session.post(
            f"{self.base_url}/v3/{path}", json=body, timeout=(CONNECT_TIMEOUT, REQUEST_TIMEOUT)
        )
        data = resp.json() if resp.content else {}
        if resp.status_code != 200 or "error" in data:
            raise EtcdServerError(str(data.get("error") or data.get("message") or resp.status_code))
        return data

    def _range_body(self, key: str, range_end: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"key": key}
        if range_end is not None:
            body["range_end"] = range_end
        if self.serializable:
            body["serializable"] = True
        return body

    def _range(self, key: str, range_end: str | None = None) -> list[dict[str, Any]]:
        return self._post("kv/range", self._range_body(key, range_end)).get("kvs") or []

    def _txn(self, compare: list[dict[str, Any]], success: list[dict[str, Any]]) -> dict[str, Any]:
        return self._post("kv/txn", {"compare": compare, "success": success})

    def read(self, key: Any) -> Any:
        kvs = self._range(encode_key(key))
        return decode_value(kvs[0]) if kvs else None

    def write(self, key: Any, value: Any) -> None:
        self._post("kv/put", {"key": encode_key(key), "value": encode_value(value)})

    def cas(self, key: Any, old: Any, new: Any) -> bool:
        k = encode_key(key)
        if old is None:
            compare = {"key": k, "target": "VERSION", "result": "EQUAL", "version": "0"}
        else:
            compare = {"key": k, "target": "VALUE", "result": "EQUAL", "value": encode_value(old)}
        put = {"request_put": {"key": k, "value": encode_value(new)}}
        return bool(self._txn([compare], [put]).get("succeeded", False))

    def snapshot(self, keys: list[str]) -> dict[str, dict[str, Any] | None]:
        """Each key's kv (None if absent), all read at one revision in one txn."""
        success = [{"request_range": self._range_body(k)} for k in keys]
        responses = self._txn([], success).get("responses") or []
        if len(responses) != len(keys):
            raise EtcdServerError(f"txn returned {len(responses)} ranges for {len(keys)} keys")
        out: dict[str, dict[str, Any] | None] = {}
        for k, r in zip(keys, responses, strict=True):
            kvs = (r.get("response_range") or {}).get("kvs") or []
            out[k] = kvs[0] if kvs else None
        return out

    def put_unless_moved(self, revisions: dict[str, int], puts: dict[str, Any]) -> bool:
        """Put ``puts`` if every key in ``revisions`` still has that mod_revision."""
        compare = [
            {"key": k, "target": "MOD", "result": "EQUAL", "mod_revision": str(rev)}
            for k, rev in revisions.items()
        ]
        success = [{"request_put": {"key": k, "value": encode_value(v)}} for k, v in puts.items()]
        return bool(self._txn(compare, success).get("succeeded", False))

    def invoke(self, op: Op) -> Op:
        try:
            return self._perform(op)
        except Exception as e:
            typ, error = classify(op.f, e)
            return self._done(op, typ, op.value, error)

    def _register(self, op: Op) -> Op:
        if op.f == "read":
            return self._done(op, "ok", self.read(op.key))
        if op.f == "write":
            self.write(op.key, op.value)
            return self._done(op, "ok", op.value)
        if op.f == "cas":
            old, new = op.value
            return self._done(op, "ok" if self.cas(op.key, old, new) else "fail", op.value)
        return self._unsupported(op)

    def _set(self, op: Op) -> Op:
        if op.f == "add":
            key = b64(SET_PREFIX + json.dumps(op.value))
            self._post("kv/put", {"key": key, "value": encode_value(op.value)})
            return self._done(op, "ok", op.value)
        if op.f == "read":
            kvs = self._range(b64(SET_PREFIX), prefix_end(SET_PREFIX))
            return self._done(op, "ok", sorted_elements(decode_value(kv) for kv in kvs))
        return self._unsupported(op)

    def _counter(self, op: Op) -> Op:
        key = encode_key(COUNTER_KEY)
        if op.f == "read":
            kvs = self._range(key)
            return self._done(op, "ok", decode_value(kvs[0]) if kvs else 0)
        if op.f != "add":
            return self._unsupported(op)

        def attempt() -> bool:
            kv = self._before_write(lambda: self.snapshot([key]))[key]
            current = decode_value(kv) if kv else 0
            return self.put_unless_moved({key: mod_revision(kv)}, {key: current + op.value})

        return (
            self._committed(op, op.value) if self._until_committed(attempt) else self._conflict(op)
        )

    def _list_append(self, op: Op) -> Op:
        if op.f != "txn":
            return self._unsupported(op)
        mops = [list(m) for m in op.value]
        keys = list(dict.fromkeys(list_key(k) for _f, k, _v in mops))
        written = [k for k in keys if any(f == "append" and list_key(mk) == k for f, mk, _ in mops)]
        result: list[list[Any]] = []

        def attempt() -> bool:
            kvs = self._before_write(lambda: self.snapshot(keys))
            lists = {k: decode_value(kv) if kv else [] for k, kv in kvs.items()}
            result[:] = apply_mops(mops, lists)
            if not written:
                return True
            revisions = {k: mod_revision(kv) for k, kv in kvs.items()}
            return self.put_unless_moved(revisions, {k: lists[k] for k in written})

        return self._committed(op, result) if self._until_committed(attempt) else self._conflict(op)

    @staticmethod
    def _until_committed(attempt: Callable[[], bool]) -> bool:
        """Repeat ``attempt`` until it commits: a compare that failed changed nothing."""
        deadline = time.monotonic() + CONFLICT_BUDGET
        for _ in range(CONFLICT_ATTEMPTS):
            if attempt():
                return True
            if time.monotonic() > deadline:
                break
        return False

    def _committed(self, op: Op, value: Any) -> Op:
        return self._done(op, "ok", value)

    def _conflict(self, op: Op) -> Op:
        return self._done(op, "fail", op.value, "conflict: a compared key kept changing")

    @staticmethod
    def _before_write(read: Callable[[], Any]) -> Any:
        """Run a read that precedes any write of this op: its failure means nothing happened."""
        try:
            return read()
        except Exception as e:
            raise NothingWritten(e) from e

    def _unsupported(self, op: Op) -> Op:
        return self._done(op, "fail", op.value, f"unsupported op {op.f!r}")

    def _done(self, op: Op, typ: str, value: Any, error: str | None = None) -> Op:
        return op.completion(typ, value, node=self.node, error=error)

    def close(self) -> None:
        self.session.close()


def apply_mops(mops: list[list[Any]], lists: dict[str, list[Any]]) -> list[list[Any]]:
    """Apply list-append micro-ops to ``lists`` (keyed by ``list_key``) in place; return the
    completed micro-ops, whose reads see the snapshot plus this transaction's earlier appends."""
    done: list[list[Any]] = []
    for f, k, v in mops:
        current = lists[list_key(k)]
        if f == "append":
            current.append(v)
            done.append([f, k, v])
        else:
            done.append([f, k, list(current)])
    return done


def sorted_elements(elements: Any) -> list[Any]:
    out = list(elements)
    try:
        return sorted(out)
    except TypeError:
        return out


class NothingWritten(RuntimeError):
    """A failure before the op's first write request: the op certainly did not happen."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause


class EtcdServerError(RuntimeError):
    """etcd answered with an error."""


def classify(f: str, e: Exception) -> tuple[str, str]:
    """(type, error) for a failed request: fail if it certainly did not happen, else info.

    A read changes nothing, so a read that failed in any way is ``fail``.
    """
    if isinstance(e, NothingWritten):
        return "fail", f"before any write: {e}"
    text = f"{type(e).__name__}: {e}"
    if isinstance(e, EtcdServerError):
        definite = any(s in str(e) for s in DEFINITE_ERRORS)
        return ("fail" if definite or f == "read" else "info"), f"etcd: {e}"
    if isinstance(e, (requests.exceptions.ConnectTimeout,)) or _refused(e):
        return "fail", f"not sent: {text}"
    return ("fail" if f == "read" else "info"), text


def _refused(e: Exception) -> bool:
    """A connection that was never established (refused, unreachable): nothing was sent."""
    if not isinstance(e, requests.exceptions.ConnectionError):
        return False
    return "NewConnectionError" in repr(e)
