"""A small replicated key-value server, written to be tested by splitbrain. Standard library only.

One node is the primary (``--primary`` names its address); the others are backups. Clients
may talk to any node, one JSON object a line over TCP::

    {"f": "read", "key": "k"}                    -> {"ok": true, "value": 3}
    {"f": "write", "key": "k", "value": 4}       -> {"ok": true, "value": 4}
    {"f": "cas", "key": "k", "value": [4, 5]}    -> {"ok": false, "definite": true, "error": "..."}

An error reply says whether the request ``definite``-ly did not happen (the server refused
it before doing anything) or may have happened (it was passed on and no answer came back).

The primary applies each change, writes it to its data directory (fsync'd) and sends it to
every backup that is in sync before it answers. A backup that misses a change (down,
paused, cut off) is out of sync until the primary has sent it a full snapshot again. A
backup passes every client request on to the primary and relays the answer.

``--mode stale-backup-reads`` switches on the deliberate bug: backups answer reads from
their own copy instead of asking the primary. On a healthy cluster that copy is fresh, so
the bug hides; once a backup is cut off from the primary it serves stale values.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import socketserver
import sys
import threading
import time
from pathlib import Path
from typing import Any

MODES = ("correct", "stale-backup-reads")
CONNECT_TIMEOUT = 0.5
REPLICATE_TIMEOUT = 0.5
FORWARD_TIMEOUT = 2.0
RESYNC_INTERVAL = 0.3


def log(*parts: object) -> None:
    print(time.strftime("%H:%M:%S"), *parts, flush=True)


def address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


class RequestNotSent(Exception):
    """No connection could be made: the request certainly did not arrive."""


def call(peer: tuple[str, int], request: dict[str, Any], timeout: float) -> dict[str, Any]:
    """One request on a fresh connection; RequestNotSent if it could not be sent at all."""
    try:
        conn = socket.create_connection(peer, timeout=CONNECT_TIMEOUT)
    except OSError as e:
        raise RequestNotSent(f"{peer[0]}:{peer[1]}: {e}") from e
    with conn:
        conn.settimeout(timeout)
        conn.sendall(json.dumps(request).encode() + b"\n")
        line = conn.makefile("rb").readline()
    if not line:
        raise ConnectionError(f"{peer[0]}:{peer[1]} closed the connection")
    return json.loads(line)


class Store:
    """The node's copy: a dict and the version (count of changes) it reflects, on disk too."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "state.json"
        self.lock = threading.Lock()
        self.version = 0
        self.data: dict[str, Any] = {}
        if self.path.exists():
            saved = json.loads(self.path.read_text())
            self.version, self.data = saved["version"], saved["data"]

    def save(self) -> None:
        """Write the state durably: to a temporary file, fsync, then rename over the old one."""
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w") as f:
            json.dump({"version": self.version, "data": self.data}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


class Node:
    def __init__(self, args: argparse.Namespace) -> None:
        self.name = args.name
        self.listen = address(args.listen)
        self.primary = address(args.primary)
        self.is_primary = self.listen == self.primary
        self.backups = [address(p) for p in args.peers.split(",") if p] if self.is_primary else []
        self.mode = args.mode
        self.store = Store(Path(args.data_dir))
        self.in_sync: set[tuple[str, int]] = set()
        """Backups that have every change so far (primary only)."""

    # Client requests.

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        f = request.get("f")
        if f in ("apply", "snapshot"):
            return self.replica_update(request)
        if f not in ("read", "write", "cas"):
            return refuse(f"unknown request {f!r}")
        if self.is_primary:
            return self.perform(request)
        if f == "read" and self.mode == "stale-backup-reads":
            with self.store.lock:
                return {"ok": True, "value": self.store.data.get(str(request.get("key")))}
        return self.forward(request)

    def forward(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            return call(self.primary, request, FORWARD_TIMEOUT)
        except RequestNotSent as e:
            return refuse(f"primary unreachable: {e}")
        except (OSError, ValueError) as e:
            return {"ok": False, "definite": False, "error": f"primary did not answer: {e}"}

    def perform(self, request: dict[str, Any]) -> dict[str, Any]:
        key, value = str(request.get("key")), request.get("value")
        store = self.store
        with store.lock:
            current = store.data.get(key)
            if request["f"] == "read":
                return {"ok": True, "value": current}
            if request["f"] == "cas":
                if not (isinstance(value, list) and len(value) == 2):
                    return refuse("cas needs [old, new]")
                if current != value[0]:
                    return refuse(f"cas: {key} is {current!r}, not {value[0]!r}")
                new = value[1]
            else:
                new = value
            store.data[key] = new
            store.version += 1
            store.save()
            self.replicate({"f": "apply", "version": store.version, "key": key, "value": new})
        return {"ok": True, "value": value}

    # Replication, on the primary.

    def replicate(self, change: dict[str, Any]) -> None:
        """Send a change to every in-sync backup; one that does not take it falls out of sync."""
        for backup in sorted(self.in_sync):
            try:
                if call(backup, change, REPLICATE_TIMEOUT).get("ok"):
                    continue
            except (OSError, ValueError):
                pass
            self.in_sync.discard(backup)
            log("backup", backup, "out of sync at version", change["version"])

    def resync_forever(self) -> None:
        """Bring out-of-sync backups back with a full snapshot, outside the store's lock."""
        while True:
            time.sleep(RESYNC_INTERVAL)
            for backup in self.backups:
                if backup in self.in_sync:
                    continue
                with self.store.lock:
                    snapshot = {
                        "f": "snapshot",
                        "version": self.store.version,
                        "data": dict(self.store.data),
                    }
                try:
                    took = call(backup, snapshot, REPLICATE_TIMEOUT).get("ok")
                except (OSError, ValueError):
                    continue
                with self.store.lock:
                    if took and self.store.version == snapshot["version"]:
                        self.in_sync.add(backup)
                        log("backup", backup, "in sync at version", snapshot["version"])

    # Replication, on a backup.

    def replica_update(self, update: dict[str, Any]) -> dict[str, Any]:
        if self.is_primary:
            return refuse("a primary takes no replication")
        store = self.store
        with store.lock:
            if update["f"] == "snapshot":
                store.version, store.data = update["version"], update["data"]
            elif update["version"] == store.version + 1:
                store.version = update["version"]
                store.data[update["key"]] = update["value"]
            elif update["version"] > store.version:
                return refuse(f"behind: at version {store.version}")
            store.save()
        return {"ok": True}


def refuse(error: str) -> dict[str, Any]:
    """An error reply for a request that certainly did not happen."""
    return {"ok": False, "definite": True, "error": error}


class Handler(socketserver.StreamRequestHandler):
    node: Node

    def handle(self) -> None:
        for line in self.rfile:
            try:
                request = json.loads(line)
                reply = self.node.handle(request) if isinstance(request, dict) else None
            except ValueError:
                reply = None
            if reply is None:
                reply = refuse("not a JSON object")
            reply["node"] = self.node.name
            self.wfile.write(json.dumps(reply).encode() + b"\n")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", required=True)
    p.add_argument("--listen", required=True, help="ADDRESS:PORT to serve on")
    p.add_argument("--primary", required=True, help="ADDRESS:PORT of the primary")
    p.add_argument("--peers", default="", help="ADDRESS:PORT of the other nodes, comma-separated")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--mode", choices=MODES, default="correct")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(sys.argv[1:] if argv is None else argv)
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    node = Node(args)
    Handler.node = node
    server = Server(node.listen, Handler)
    role = "primary" if node.is_primary else "backup"
    log(f"{node.name}: {role} on {args.listen}, mode {node.mode}, version {node.store.version}")
    if node.is_primary:
        threading.Thread(target=node.resync_forever, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
