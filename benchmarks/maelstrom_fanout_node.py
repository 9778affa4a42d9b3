#!/usr/bin/env python3
"""A Maelstrom echo node that, for each echo, also sends FANOUT one-way messages to random
peers: load for the router benchmark (about FANOUT + 2 messages per op). It is a load
generator, so it spends as little CPU as it can (the router is what is measured): the
noise lines it receives are skipped unparsed and the ones it sends are encoded once."""

import json
import os
import random
import sys

FANOUT = int(sys.argv[1]) if len(sys.argv) > 1 else 28
NOISE = b'"type":"noise"'
me, noise = "", []
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
        if not line or NOISE in line:
            continue
        msg = json.loads(line)
        body = msg["body"]
        kind = body["type"]
        if kind == "init":
            me = body["node_id"]
            peers = [n for n in body["node_ids"] if n != me] or [me]
            noise = [
                json.dumps({"src": me, "dest": p, "body": {"type": "noise"}}).encode()
                for p in peers
            ]
            reply = {"type": "init_ok", "in_reply_to": body["msg_id"]}
        elif kind == "echo":
            batch += random.choices(noise, k=FANOUT)
            reply = {"type": "echo_ok", "echo": body["echo"], "in_reply_to": body["msg_id"]}
        else:
            continue
        batch.append(json.dumps({"src": me, "dest": msg["src"], "body": reply}).encode())
    if batch:
        out.write(b"\n".join(batch) + b"\n")
        out.flush()
