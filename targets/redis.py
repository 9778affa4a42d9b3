"""A real Redis (Debian's redis-server): a primary on n1 and a replica (``replicaof``) on each other node.

``-o failover=sentinel`` runs redis-sentinel on every node; clients then ask the sentinel
of their node where the primary is, before every operation. ``-o reads=replica`` reads
from the replicas. The client is redis-py with its retries off (a retried write can apply
twice); ``-o client-retries=N`` turns them back on, to show what that does.

Workloads: register (GET, SET, compare-and-set as a Lua script; ``add`` is INCRBY on the
key); set (SADD and SMEMBERS on one key); counter (INCRBY and GET); queue on a list (LPUSH
to enqueue, RPOP to dequeue, a Lua script to drain); list-append (a Lua script applies
the whole transaction atomically on the primary: RPUSH appends, LRANGE reads). With
``-o reads=replica``, reads (and read-only transactions, as MULTI/EXEC) go to a replica.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.retry import Retry

from splitbrain.harness.base.history import Op
from splitbrain.harness.base.options import option_choice, option_int
from splitbrain.harness.base.protocols import data_type
from splitbrain.targets.server import (
    ClientContext,
    ConfigFile,
    Server,
    ServerNode,
    ServerTarget,
    double_quoted,
)

PORT = 6379
SENTINEL_PORT = 26379
PRIMARY_NAME = "splitbrain"
TIMEOUT = 1.0
READS = ("primary", "replica")
FAILOVERS = ("none", "sentinel")

CAS_SCRIPT = """
local v = redis.call('GET', KEYS[1])
if (ARGV[1] == '' and not v) or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

DRAIN_SCRIPT = """
local v = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return v
"""

TXN_SCRIPT = """
local out = {}
for j = 1, #ARGV, 3 do
  local key = KEYS[tonumber(ARGV[j + 1])]
  if ARGV[j] == 'append' then
    redis.call('RPUSH', key, ARGV[j + 2])
    out[#out + 1] = 0
  else
    out[#out + 1] = redis.call('LRANGE', key, 0, -1)
  end
end
return out
"""
"""ARGV holds (f, index into KEYS, encoded value) per micro-op; reads return their list."""

SET_KEY = "set"
COUNTER_KEY = "counter"
QUEUE_KEY = "queue"

STATED_REFUSALS: dict[type[Exception], str] = {
    redis.exceptions.ReadOnlyError: "READONLY",
    redis.exceptions.MasterDownError: "MASTERDOWN",
    redis.exceptions.BusyLoadingError: "LOADING",
    redis.exceptions.NoScriptError: "NOSCRIPT",
}
"""redis-py strips these error codes from the message and raises a class instead."""


def redis_key(key: Any) -> str:
    return f"k/{key}"


def list_key(key: Any) -> str:
    return f"la/{key}"


def encode(value: Any) -> str:
    return json.dumps(value)


def decode(raw: bytes | None) -> Any:
    return None if raw is None else json.loads(raw)


def connect(host: str, port: int, retries: int) -> redis.Redis:
    """A redis-py client with explicit timeouts; retries off unless ``retries`` > 0.

    redis-py retries timeouts and connection errors by default (``Retry`` with its default
    ``supported_errors``); zero retries turn that off, as ``retry_on_timeout=False`` did.
    """
    if retries > 0:
        retry = Retry(ExponentialBackoff(cap=0.5, base=0.05), retries)
    else:
        retry = Retry(NoBackoff(), 0)
    return redis.Redis(
        host=host, port=port, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT, retry=retry
    )


REDIS_CONF = """\
bind {address}
port {port}
protected-mode no
daemonize no
dir {data_dir}
appendonly yes
appendfsync everysec
save ""
replica-serve-stale-data yes
repl-diskless-sync-delay 0
loglevel notice
"""

SENTINEL_CONF = f"""\
bind {{address}}
port {{port}}
protected-mode no
daemonize no
dir {{data_dir}}
sentinel monitor {PRIMARY_NAME} {{primary}} {PORT} {{quorum}}
sentinel down-after-milliseconds {PRIMARY_NAME} 1000
sentinel failover-timeout {PRIMARY_NAME} 4000
sentinel parallel-syncs {PRIMARY_NAME} 1
"""

PRIMARY = Server(
    name="redis",
    command=("{redis-binary}", "{dir}/redis.conf"),
    port=PORT,
    config=(ConfigFile("redis.conf", REDIS_CONF, double_quoted),),
    package="redis-server",
)
REPLICA = replace(
    PRIMARY,
    config=(
        ConfigFile("redis.conf", REDIS_CONF + f"replicaof {{primary}} {PORT}\n", double_quoted),
    ),
)
SENTINEL = Server(
    name="sentinel",
    command=("{sentinel-binary}", "{dir}/sentinel.conf"),
    port=SENTINEL_PORT,
    config=(ConfigFile("sentinel.conf", SENTINEL_CONF, double_quoted),),
    package="redis-sentinel",
)


class RedisTarget(ServerTarget):
    name = "redis"
    options = {
        "nodes": "3",
        "reads": "primary",
        "failover": "none",
        "client-retries": "0",
        "redis-binary": "/usr/bin/redis-server",
        "sentinel-binary": "/usr/bin/redis-sentinel",
    }
    operations = frozenset(
        {"read", "write", "cas", "set.add", "set.read", "counter.add", "counter.read", "txn"}
        | {"enqueue", "dequeue", "drain"}
    )

    def configure(self, options: dict[str, str]) -> None:
        super().configure(options)
        self.reads = option_choice(self.settings, "reads", READS)
        self.failover = option_choice(self.settings, "failover", FAILOVERS)
        self.retries = option_int(self.settings, "client-retries", 0, 100)

    def servers(self, node: ServerNode) -> list[Server]:
        redis_server = PRIMARY if node.index == 0 else REPLICA
        return [redis_server, SENTINEL] if self.failover == "sentinel" else [redis_server]

    def placeholders(
        self, node: ServerNode, server: Server, cluster: Sequence[ServerNode]
    ) -> dict[str, str]:
        return {
            "primary": cluster[0].address,
            "quorum": str(len(cluster) // 2 + 1),
        }

    def after_start(self) -> None:
        deadline = time.monotonic() + 30
        while not self._replicated() or not self._sentinels_agree():
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"redis: replication or sentinels not up within 30s; logs in {self.log_dir}"
                )
            time.sleep(0.2)

    def _replicated(self) -> bool:
        for node in self.cluster()[1:]:
            r = connect(node.address, PORT, 0)
            try:
                if r.info("replication").get("master_link_status") != "up":
                    return False
            finally:
                r.close()
        return True

    def _sentinels_agree(self) -> bool:
        if self.failover != "sentinel":
            return True
        cluster = self.cluster()
        others = len(cluster) - 1
        for node in cluster:
            r = connect(node.address, SENTINEL_PORT, 0)
            try:
                info = r.execute_command("SENTINEL", "MASTER", PRIMARY_NAME)
            finally:
                r.close()
            state = _pairs(info)
            if (
                int(state.get("num-slaves", 0)) < others
                or int(state.get("num-other-sentinels", 0)) < others
            ):
                return False
        return True

    def new_client(self, ctx: ClientContext) -> RedisClient:
        primary = ctx.nodes[0]
        replicas = ctx.nodes[1:] or ctx.nodes
        read_node = replicas[ctx.worker % len(replicas)] if self.reads == "replica" else None
        sentinel = ctx.node.address if self.failover == "sentinel" else None
        names = {n.address: n.name for n in ctx.nodes}
        return RedisClient(
            primary.address,
            read_node.address if read_node else None,
            sentinel,
            self.retries,
            names,
            data_type(ctx.operations),
        )


def _pairs(reply: Any) -> dict[str, str]:
    """SENTINEL MASTER's reply (a flat list, or a dict under RESP3) as a str dict."""
    if isinstance(reply, dict):
        items = reply.items()
    else:
        items = zip(reply[::2], reply[1::2], strict=False)
    return {_text(k): _text(v) for k, v in items}


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


class NotSent(Exception):
    """The request was never sent (no connection could be made): the op certainly did not happen."""


class RedisClient:
    """Talks to the primary (found through the node's sentinel when there is one), reads maybe from a replica."""

    def __init__(
        self,
        primary: str,
        read_from: str | None,
        sentinel: str | None,
        retries: int,
        names: dict[str, str],
        data: str = "register",
    ) -> None:
        self.names = names
        self.primary = primary
        self.read_from = read_from
        self.sentinel = sentinel
        self.retries = retries
        self.conns: dict[str, redis.Redis] = {}
        self.node: str | None = None
        self._perform: Callable[[Op], Op] = {
            "register": self._register,
            "set": self._set,
            "counter": self._counter,
            "queue": self._queue,
            "list-append": self._list_append,
        }[data]

    def _conn(self, address: str) -> redis.Redis:
        """A client for ``address`` with a live connection ready; NotSent if none can be made."""
        r = self.conns.get(address)
        if r is None:
            r = self.conns[address] = connect(address, PORT, self.retries)
        try:
            r.connection_pool.release(r.connection_pool.get_connection())
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as e:
            raise NotSent(f"{address}: {type(e).__name__}: {e}") from e
        self.node = self.names.get(address, address)
        return r

    def _primary_address(self) -> str:
        if self.sentinel is None:
            return self.primary
        s = connect(self.sentinel, SENTINEL_PORT, 0)
        try:
            reply = s.execute_command("SENTINEL", "get-master-addr-by-name", PRIMARY_NAME)
        except (redis.exceptions.RedisError, OSError) as e:
            raise NotSent(f"sentinel {self.sentinel}: {type(e).__name__}: {e}") from e
        finally:
            s.close()
        if not reply:
            raise NotSent(f"sentinel {self.sentinel} knows no primary")
        return _text(reply[0])

    def _writer(self) -> redis.Redis:
        return self._conn(self._primary_address())

    def _reader(self) -> redis.Redis:
        return self._conn(self.read_from or self._primary_address())

    def invoke(self, op: Op) -> Op:
        try:
            return self._perform(op)
        except Exception as e:
            typ, error = classify(_effect(op), e)
            return self._done(op, typ, op.value, error)

    def _register(self, op: Op) -> Op:
        if op.f == "read":
            return self._done(op, "ok", decode(self._reader().get(redis_key(op.key))))
        if op.f == "write":
            self._writer().set(redis_key(op.key), encode(op.value))
            return self._done(op, "ok", op.value)
        if op.f == "cas":
            old, new = op.value
            expected = "" if old is None else encode(old)
            swapped = self._writer().eval(CAS_SCRIPT, 1, redis_key(op.key), expected, encode(new))
            return self._done(op, "ok" if swapped == 1 else "fail", op.value)
        if op.f == "add":
            self._writer().incrby(redis_key(op.key), int(op.value))
            return self._done(op, "ok", op.value)
        return self._unsupported(op)

    def _set(self, op: Op) -> Op:
        if op.f == "add":
            self._writer().sadd(SET_KEY, encode(op.value))
            return self._done(op, "ok", op.value)
        if op.f == "read":
            members = [decode(m) for m in self._reader().smembers(SET_KEY)]
            return self._done(op, "ok", _sorted(members))
        return self._unsupported(op)

    def _counter(self, op: Op) -> Op:
        if op.f == "add":
            self._writer().incrby(COUNTER_KEY, int(op.value))
            return self._done(op, "ok", op.value)
        if op.f == "read":
            raw = self._reader().get(COUNTER_KEY)
            return self._done(op, "ok", 0 if raw is None else int(raw))
        return self._unsupported(op)

    def _queue(self, op: Op) -> Op:
        """LPUSH adds on the left, RPOP takes from the right: first in, first out."""
        if op.f == "enqueue":
            self._writer().lpush(QUEUE_KEY, encode(op.value))
            return self._done(op, "ok", op.value)
        if op.f == "dequeue":
            raw = self._writer().rpop(QUEUE_KEY)
            if raw is None:
                return self._done(op, "fail", None, "empty")
            return self._done(op, "ok", decode(raw))
        if op.f == "drain":
            left = self._writer().eval(DRAIN_SCRIPT, 1, QUEUE_KEY)
            return self._done(op, "ok", [decode(m) for m in reversed(left)])
        return self._unsupported(op)

    def _list_append(self, op: Op) -> Op:
        if op.f != "txn":
            return self._unsupported(op)
        mops = [list(m) for m in op.value]
        if self.read_from is not None and not _writes(mops):
            return self._read_only_txn(op, mops)
        keys = list(dict.fromkeys(list_key(k) for _f, k, _v in mops))
        argv: list[str] = []
        for f, k, v in mops:
            argv += [f, str(keys.index(list_key(k)) + 1), "" if v is None else encode(v)]
        replies = self._writer().eval(TXN_SCRIPT, len(keys), *keys, *argv)
        return self._done(op, "ok", _filled(mops, replies))

    def _read_only_txn(self, op: Op, mops: list[list[Any]]) -> Op:
        """Reads only, on a replica: one MULTI/EXEC of LRANGEs, atomic on that replica."""
        pipe = self._reader().pipeline(transaction=True)
        for _f, k, _v in mops:
            pipe.lrange(list_key(k), 0, -1)
        return self._done(op, "ok", _filled(mops, pipe.execute()))

    def _unsupported(self, op: Op) -> Op:
        return self._done(op, "fail", op.value, f"unsupported op {op.f!r}")

    def _done(self, op: Op, typ: str, value: Any, error: str | None = None) -> Op:
        return op.completion(typ, value, node=self.node, error=error)

    def close(self) -> None:
        for r in self.conns.values():
            r.close()
        self.conns.clear()


def _writes(mops: list[list[Any]]) -> bool:
    return any(f == "append" for f, _k, _v in mops)


def _effect(op: Op) -> str:
    """``read`` for ops that change nothing (so any failure of them is ``fail``), else the op's f."""
    if op.f == "txn" and isinstance(op.value, list) and not _writes(op.value):
        return "read"
    return op.f


def _filled(mops: list[list[Any]], replies: list[Any]) -> list[list[Any]]:
    """The micro-ops with each read's value set to the list it read."""
    return [
        [f, k, [decode(x) for x in reply]] if f == "r" else [f, k, v]
        for (f, k, v), reply in zip(mops, replies, strict=True)
    ]


def _sorted(elements: list[Any]) -> list[Any]:
    try:
        return sorted(elements)
    except TypeError:
        return elements


def classify(f: str, e: Exception) -> tuple[str, str]:
    """(type, error): ``fail`` when the op certainly did not happen, else ``info``.

    Refused before sending, or refused by the server in words (READONLY, NOREPLICAS...):
    fail. A timeout or broken connection after sending: info. A read changes nothing, so
    any failed read is fail.
    """
    text = f"{type(e).__name__}: {e}"
    if isinstance(e, NotSent):
        return "fail", f"not sent: {e}"
    code = STATED_REFUSALS.get(type(e))
    if code is not None:
        return "fail", f"redis refused: {code} {e}"
    if isinstance(e, redis.exceptions.ResponseError):
        return "fail", f"redis refused: {e}"
    return ("fail" if f == "read" else "info"), text
