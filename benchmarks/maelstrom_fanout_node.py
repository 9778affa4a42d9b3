#!/usr/bin/env python3
"""A Maelstrom echo node that, for each echo, also sends FANOUT one-way messages to random
peers: load for the router benchmark (about FANOUT + 2 messages per op)."""

import json
import os
import random
import sys

FANOUT = int(sys.argv[1]) if len(sys.argv) > 1 else 28
me, peers = "", []
out = sys.stdout.buffer
buf = b""
while True:
    chunk = os.read(0, 1 << 16)
    if not chunk:
        break
    buf += chunk
    *lines, buf = buf.split(b"\n")
    batch = []
    for line in lines:
        if not line:
            continue
        msg = json.loads(line)
        body = msg["body"]
        kind = body["type"]
        if kind == "init":
            me = body["node_id"]
            peers = [n for n in body["node_ids"] if n != me] or [me]
            reply = {"type": "init_ok", "in_reply_to": body["msg_id"]}
        elif kind == "echo":
            for _ in range(FANOUT):
                batch.append(
                    json.dumps({"src": me, "dest": random.choice(peers), "body": {"type": "noise"}})
                )
            reply = {"type": "echo_ok", "echo": body["echo"], "in_reply_to": body["msg_id"]}
        else:
            continue
        batch.append(json.dumps({"src": me, "dest": msg["src"], "body": reply}))
    if batch:
        out.write(("\n".join(batch) + "\n").encode())
        out.flush()
