"""The harness's side of the router process: ``RouterProcess``.

Client threads send their messages, and the target its commands, over one socket to the
router process (``routerd``); one reader thread here takes what comes back: replies, put
on each client's queue, the results of calls, and the router's log records.
"""

from __future__ import annotations

import itertools
import multiprocessing
import socket
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from queue import SimpleQueue
from typing import Any

import orjson

from splitbrain.harness.base import signals
from splitbrain.targets.maelstrom import routerd
from splitbrain.targets.maelstrom.network import Faults
from splitbrain.targets.maelstrom.router import log

START_TIMEOUT_S = 30.0
CALL_TIMEOUT_S = 30.0


class RouterGone(RuntimeError):
    """The router process ended, or failed, before answering."""


@dataclass
class Client:
    """A harness-side client: its id and the queue its replies land in."""

    id: str
    replies: SimpleQueue[dict[str, Any]] = field(default_factory=SimpleQueue)


class RouterProcess:
    """Start, command and stop the router process; its methods are safe from any thread."""

    def __init__(
        self,
        seed: int,
        latency_ms: float,
        latency_dist: str,
        journal: Path,
        log_stderr: bool = False,
        realtime: bool = False,
    ) -> None:
        self.config = {
            "seed": seed,
            "latency_ms": latency_ms,
            "latency_dist": latency_dist,
            "journal": str(journal),
            "log_stderr": log_stderr,
            "realtime": realtime,
        }
        self.faults = Faults()
        """The faults in force, as last sent to the router."""
        self.clients: dict[str, Client] = {}
        self.error: str | None = None
        self._calls: dict[int, Future[Any]] = {}
        self._ids = itertools.count(1)
        self._send_lock = threading.Lock()
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._reader: threading.Thread | None = None
        self._ready: Future[None] = Future()

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        with signals.postponed():
            mine, theirs = socket.socketpair()
            try:
                self._proc = multiprocessing.get_context("fork").Process(
                    target=routerd.main,
                    args=(theirs.fileno(), mine.fileno(), self.config),
                    name="maelstrom-router",
                    daemon=True,
                )
                self._proc.start()
            finally:
                theirs.close()
            self._conn = Connection(mine.detach())
            self._reader = threading.Thread(
                target=self._read, name="maelstrom-replies", daemon=True
            )
            self._reader.start()
        self._ready.result(START_TIMEOUT_S)

    def is_alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive() and self.error is None

    def close(self) -> None:
        """Shut the router down (it kills every node and closes the journal) and wait."""
        if self._proc is None:
            return
        try:
            if self.error is None:
                self.call("shutdown")
        except (RouterGone, TimeoutError, OSError):
            pass
        finally:
            if self._conn is not None:
                self._conn.close()
            self._proc.join(CALL_TIMEOUT_S)
            if self._proc.exitcode is None:
                self._proc.kill()
                self._proc.join()
            if self._reader is not None:
                self._reader.join(CALL_TIMEOUT_S)

    # ------------------------------------------------------------ talking to the router

    def _send(self, message: tuple[Any, ...]) -> None:
        if self.error is not None:
            raise RouterGone(self.error)
        assert self._conn is not None
        with self._send_lock:
            self._conn.send(message)

    def call(self, name: str, *args: Any, timeout: float = CALL_TIMEOUT_S) -> Any:
        """Run the router's command ``name`` (``router.COMMANDS``) and return its result."""
        call_id = next(self._ids)
        fut: Future[Any] = Future()
        self._calls[call_id] = fut
        try:
            self._send(("call", call_id, name, args))
            return fut.result(timeout)
        finally:
            self._calls.pop(call_id, None)

    def client_send(self, client: Client, dest: str, body: dict[str, Any]) -> None:
        line = orjson.dumps({"src": client.id, "dest": dest, "body": body})
        self._send(("send", client.id, dest, line))

    def new_client(self, client_id: str) -> Client:
        c = self.clients[client_id] = Client(client_id)
        self._send(("client", client_id, True))
        return c

    def drop_client(self, client: Client) -> None:
        self.clients.pop(client.id, None)
        try:
            self._send(("client", client.id, False))
        except (RouterGone, OSError):
            pass

    def set_faults(self, faults: Faults) -> None:
        self.faults = faults
        self.call("set_faults", faults)

    # ------------------------------------------------------------ what comes back

    def _read(self) -> None:
        assert self._conn is not None
        conn, clients = self._conn, self.clients
        try:
            while True:
                message = conn.recv()
                kind = message[0]
                if kind == "replies":
                    for client_id, line in message[1]:
                        client = clients.get(client_id)
                        if client is not None:
                            client.replies.put(orjson.loads(line)["body"])
                elif kind == "result":
                    _, call_id, ok, value = message
                    fut = self._calls.get(call_id)
                    if fut is not None:
                        fut.set_result(value) if ok else fut.set_exception(value)
                elif kind == "log":
                    log.log(message[1], "%s", message[2])
                elif kind == "ready":
                    self._ready.set_result(None)
                elif kind == "error":
                    self.error = message[1]
        except (EOFError, OSError):
            pass
        if self.error is None:
            code = self._proc.exitcode if self._proc is not None else None
            self.error = "the router process ended" + (
                f" with code {code}" if code is not None else ""
            )
        gone = RouterGone(self.error)
        if not self._ready.done():
            self._ready.set_exception(gone)
        for fut in list(self._calls.values()):
            if not fut.done():
                fut.set_exception(gone)
