"""A real etcd cluster (Debian's etcd-server 3.4), one member per node.

Clients speak etcd's v3 JSON gateway over HTTP with explicit timeouts: ``range`` reads,
``put`` writes, and a ``txn`` comparing the value does compare-and-set. Keys and values
are base64 in the gateway; values are stored as JSON text. ``-o reads=serializable``
makes reads serializable (served by the member alone, possibly stale).
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import requests

from harness.control.node import Node
from harness.control.service import ServiceTarget, option_choice
from harness.history import Op
from harness.protocols import HarnessInputError

CLIENT_PORT = 2379
PEER_PORT = 2380
CONNECT_TIMEOUT = 1.0
REQUEST_TIMEOUT = 3.0
READS = ("linearizable", "serializable")

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


class EtcdTarget(ServiceTarget):
    name = "etcd"
    options = {"nodes": "3", "reads": "linearizable", "etcd-binary": "/usr/bin/etcd"}

    def configure(self, options: dict[str, str]) -> None:
        super().configure(options)
        self.reads = option_choice(options, self.options, "reads", READS)
        self.binary = options.get("etcd-binary", self.options["etcd-binary"])
        if not self.binary:
            raise HarnessInputError("-o etcd-binary= must name the etcd executable")

    def services(self, node: Node) -> list[str]:
        return ["etcd"]

    def _initial_cluster(self) -> str:
        return ",".join(f"{n.name}=http://{n.address}:{PEER_PORT}" for n in self._nodes)

    def argv(self, node: Node, service: str) -> list[str]:
        assert self.ctx is not None
        return [
            self.binary,
            "--name", node.name,
            "--data-dir", str(self.data_dir(node)),
            "--listen-peer-urls", f"http://{node.address}:{PEER_PORT}",
            "--initial-advertise-peer-urls", f"http://{node.address}:{PEER_PORT}",
            "--listen-client-urls", f"http://{node.address}:{CLIENT_PORT}",
            "--advertise-client-urls", f"http://{node.address}:{CLIENT_PORT}",
            "--initial-cluster", self._initial_cluster(),
            "--initial-cluster-state", "new",
            "--initial-cluster-token", f"splitbrain-{self.ctx.run_id}",
            "--heartbeat-interval", "100",
            "--election-timeout", "1000",
            "--logger", "zap",
        ]  # fmt: skip

    def url(self, node: Node) -> str:
        return f"http://{node.address}:{CLIENT_PORT}"

    def ready(self, node: Node, service: str) -> bool:
        return requests.get(f"{self.url(node)}/version", timeout=CONNECT_TIMEOUT).ok

    def after_start(self) -> None:
        """Wait until a write commits, so the cluster has a leader before clients start."""
        client = EtcdClient(self.url(self._nodes[0]), self._nodes[0].name, "linearizable")
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

    def client(self, process: int) -> EtcdClient:
        node = self._nodes[process % len(self._nodes)]
        return EtcdClient(self.url(node), node.name, self.reads)


class EtcdClient:
    """One connection (session) to one member; every request has a connect and read timeout."""

    def __init__(self, base_url: str, node: str, reads: str) -> None:
        self.base_url = base_url
        self.node = node
        self.serializable = reads == "serializable"
        self.session = requests.Session()

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.session.post(
            f"{self.base_url}/v3/{path}", json=body, timeout=(CONNECT_TIMEOUT, REQUEST_TIMEOUT)
        )
        data = resp.json() if resp.content else {}
        if resp.status_code != 200 or "error" in data:
            raise EtcdServerError(str(data.get("error") or data.get("message") or resp.status_code))
        return data

    def read(self, key: Any) -> Any:
        body: dict[str, Any] = {"key": encode_key(key)}
        if self.serializable:
            body["serializable"] = True
        kvs = self._post("kv/range", body).get("kvs") or []
        return json.loads(unb64(kvs[0]["value"])) if kvs else None

    def write(self, key: Any, value: Any) -> None:
        self._post("kv/put", {"key": encode_key(key), "value": encode_value(value)})

    def cas(self, key: Any, old: Any, new: Any) -> bool:
        k = encode_key(key)
        if old is None:
            compare = {"key": k, "target": "VERSION", "result": "EQUAL", "version": "0"}
        else:
            compare = {"key": k, "target": "VALUE", "result": "EQUAL", "value": encode_value(old)}
        body = {
            "compare": [compare],
            "success": [{"request_put": {"key": k, "value": encode_value(new)}}],
        }
        return bool(self._post("kv/txn", body).get("succeeded", False))

    def invoke(self, op: Op) -> Op:
        try:
            if op.f == "read":
                return self._done(op, "ok", self.read(op.key))
            if op.f == "write":
                self.write(op.key, op.value)
                return self._done(op, "ok", op.value)
            if op.f == "cas":
                old, new = op.value
                return self._done(op, "ok" if self.cas(op.key, old, new) else "fail", op.value)
            return self._done(op, "fail", op.value, f"unsupported op {op.f!r}")
        except Exception as e:
            typ, error = classify(op.f, e)
            return self._done(op, typ, op.value, error)

    def _done(self, op: Op, typ: str, value: Any, error: str | None = None) -> Op:
        return op.completion(typ, value, node=self.node, error=error)

    def close(self) -> None:
        self.session.close()


class EtcdServerError(RuntimeError):
    """etcd answered with an error."""


def classify(f: str, e: Exception) -> tuple[str, str]:
    """(type, error) for a failed request: fail if it certainly did not happen, else info.

    A read changes nothing, so a read that failed in any way is ``fail``.
    """
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
