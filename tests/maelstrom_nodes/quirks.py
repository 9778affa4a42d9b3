#!/usr/bin/env python3
"""An echo node with the habits of nodes found in the wild, all at once, and no library:

- it reads stdin with Python's buffered line iterator (no select, no os.read);
- before answering init it says hello to every other node (which may not be initialised);
- at init it sends a service request with no msg_id at all (fire and forget);
- its first request to a service has msg_id 0, and every request to a service carries a
  stray ``in_reply_to`` (a library that sets it on every message);
- every echo waits for a lin-kv write first, and the reply has extra fields;
- it writes each line in two pieces, flushing in between, and the echo reply and a
  message to another node in one write;
- it writes a lot to stderr (64 KiB at init, 4 KiB per echo).
"""

import json
import sys

me = ""
others: list[str] = []
next_id = -1
waiting: dict[int, dict] = {}
"""Service request id -> the client's echo request it is for."""


def line(dest: str, body: dict) -> str:
    return json.dumps({"src": me, "dest": dest, "body": body}) + "\n"


def write_in_pieces(text: str) -> None:
    half = len(text) // 2
    sys.stdout.write(text[:half])
    sys.stdout.flush()
    sys.stdout.write(text[half:])
    sys.stdout.flush()


for raw in sys.stdin:
    msg = json.loads(raw)
    body = msg["body"]
    kind = body.get("type")
    if kind == "init":
        me, others = body["node_id"], [n for n in body["node_ids"] if n != body["node_id"]]
        for other in others:
            write_in_pieces(line(other, {"type": "hello"}))
        write_in_pieces(line("lin-kv", {"type": "read", "key": "nobody"}))
        sys.stderr.write("x" * 65536 + "\n")
        write_in_pieces(line(msg["src"], {"type": "init_ok", "in_reply_to": body["msg_id"]}))
    elif kind == "echo":
        next_id += 1
        waiting[next_id] = msg
        request = {"type": "write", "key": me, "value": next_id, "msg_id": next_id}
        write_in_pieces(line("lin-kv", dict(request, in_reply_to=0)))
    elif kind == "write_ok" and body.get("in_reply_to") in waiting:
        request = waiting.pop(body["in_reply_to"])
        reply = {
            "type": "echo_ok",
            "echo": request["body"]["echo"],
            "in_reply_to": request["body"]["msg_id"],
            "extra": {"served-by": me, "writes": next_id + 1},
        }
        sys.stderr.write("y" * 4096 + "\n")
        sys.stderr.flush()
        gossip = line(others[0], {"type": "hello"}) if others else ""
        write_in_pieces(line(request["src"], reply) + gossip)
