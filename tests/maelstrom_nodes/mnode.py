"""A tiny single-threaded Maelstrom node library for splitbrain's own test nodes."""

from __future__ import annotations

import json
import os
import select
import sys
import time
from collections.abc import Callable
from typing import Any

Body = dict[str, Any]


class Node:
    def __init__(self) -> None:
        self.id = ""
        self.node_ids: list[str] = []
        self.handlers: dict[str, Callable[[Node, dict[str, Any]], None]] = {}
        self.callbacks: dict[int, Callable[[Body], None]] = {}
        self.timers: list[tuple[float, float, Callable[[], None]]] = []
        self.next_id = 0
        self.on_init: Callable[[], None] | None = None

    def handler(self, kind: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
        def deco(fn: Callable[..., None]) -> Callable[..., None]:
            self.handlers[kind] = fn
            return fn

        return deco

    def every(self, seconds: float, fn: Callable[[], None]) -> None:
        self.timers.append((time.monotonic() + seconds, seconds, fn))

    def log(self, *parts: Any) -> None:
        print(*parts, file=sys.stderr, flush=True)

    def send(self, dest: str, body: Body) -> None:
        sys.stdout.write(json.dumps({"src": self.id, "dest": dest, "body": body}) + "\n")
        sys.stdout.flush()

    def reply(self, msg: dict[str, Any], body: Body) -> None:
        body = dict(body)
        body["in_reply_to"] = msg["body"].get("msg_id")
        self.send(msg["src"], body)

    def rpc(self, dest: str, body: Body, callback: Callable[[Body], None]) -> None:
        self.next_id += 1
        self.callbacks[self.next_id] = callback
        self.send(dest, dict(body, msg_id=self.next_id))

    def _dispatch(self, msg: dict[str, Any]) -> None:
        body = msg["body"]
        if body.get("in_reply_to") in self.callbacks:
            self.callbacks.pop(body["in_reply_to"])(body)
            return
        kind = body.get("type")
        if kind == "init":
            self.id, self.node_ids = body["node_id"], body["node_ids"]
            self.reply(msg, {"type": "init_ok"})
            if self.on_init:
                self.on_init()
            return
        fn = self.handlers.get(kind)
        if fn is not None:
            fn(self, msg)

    def run(self) -> None:
        fd = sys.stdin.fileno()
        buf = b""
        while True:
            now = time.monotonic()
            wait = min((t[0] for t in self.timers), default=now + 1) - now
            ready, _, _ = select.select([fd], [], [], max(0.0, wait))
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    if line.strip():
                        self._dispatch(json.loads(line))
            now = time.monotonic()
            due = [t for t in self.timers if t[0] <= now]
            self.timers = [t for t in self.timers if t[0] > now]
            for _, period, fn in due:
                self.timers.append((now + period, period, fn))
                fn()
