"""The splitbrain target for the example key-value server, as a user would write it.

It imports nothing but splitbrain's public names. The target says how to start one node
and when it is ready; the client speaks the server's line-JSON protocol and classifies
every error as splitbrain needs: ``fail`` when the op certainly did not happen, ``info``
when it may have.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from splitbrain import (
    ClientContext,
    HarnessInputError,
    NodeFile,
    Op,
    ReadyPort,
    Server,
    ServerNode,
    ServerTarget,
)

PORT = 7070
CONNECT_TIMEOUT = 1.0
SERVER_SCRIPT = str(Path(__file__).with_name("server.py"))
MODES = ("correct", "stale-backup-reads")

KV_SERVER = Server(
    name="kv",
    command=(
        "{python}", "{dir}/kvserver.py",
        "--name", "{name}",
        "--listen", "{address}:{port}",
        "--primary", "{primary}",
        "--peers", "{peers}",
        "--data-dir", "{data_dir}",
        "--mode", "{mode}",
    ),
    port=PORT,
    ready=ReadyPort(),
    files=(NodeFile("kvserver.py", SERVER_SCRIPT),),  # copied to every node, remote ones too
)  # fmt: skip


class KvClient:
    """One connection to the client's own node, opened on the first op and after an error."""

    operations = frozenset({"read", "write", "cas"})

    def __init__(self, ctx: ClientContext) -> None:
        self.node = ctx.node
        self.timeout = max(0.5, min(3.0, ctx.op_timeout - 1.0))
        self.conn: socket.socket | None = None
        self.replies: Any = None

    def invoke(self, op: Op) -> Op:
        request = {"f": op.f, "key": op.key, "value": op.value}
        try:
            self._connect()
        except OSError as e:
            return self._done(op, "fail", op.value, f"not sent: {e}")
        try:
            assert self.conn is not None
            self.conn.sendall(json.dumps(request).encode() + b"\n")
            line = self.replies.readline()
            if not line:
                raise ConnectionError("the server closed the connection")
            reply = json.loads(line)
        except (OSError, ValueError) as e:
            self.close()
            return self._done(op, "info", op.value, f"sent, no answer: {e}")
        if reply.get("ok"):
            value = reply.get("value") if op.f == "read" else op.value
            return self._done(op, "ok", value)
        typ = "fail" if reply.get("definite") else "info"
        return self._done(op, typ, op.value, f"server: {reply.get('error')}")

    def _connect(self) -> None:
        if self.conn is None:
            conn = socket.create_connection((self.node.address, self.node.port), CONNECT_TIMEOUT)
            conn.settimeout(self.timeout)
            self.conn, self.replies = conn, conn.makefile("rb")

    def _done(self, op: Op, typ: str, value: Any, error: str | None = None) -> Op:
        return op.completion(typ, value, node=self.node.name, error=error)

    def close(self) -> None:
        if self.conn is not None:
            self.replies.close()
            self.conn.close()
            self.conn = self.replies = None


class KvTarget(ServerTarget):
    """``-o mode=stale-backup-reads`` starts the servers with their deliberate bug."""

    name = "kvexample"
    options = {
        "nodes": "3",
        "mode": "correct",
        "python": "python3",
    }
    server = KV_SERVER
    client_class = KvClient

    def configure(self, options: dict[str, str]) -> None:
        super().configure(options)
        if self.settings["mode"] not in MODES:
            raise HarnessInputError(
                f"-o mode={self.settings['mode']}: must be one of {', '.join(MODES)}"
            )

    def placeholders(
        self, node: ServerNode, server: Server, cluster: Sequence[ServerNode]
    ) -> dict[str, str]:
        return {"primary": f"{cluster[0].address}:{server.port}"}
