#!/usr/bin/env python3
"""A counter on seq-kv: adds by read + cas on one key; reads first write a key of their
own so the store catches the node up. --broken acknowledges every third positive add
without applying it (a lost update that always lowers the sum: caught whatever the timing,
also for a pn-counter, whose lost deltas could otherwise cancel out)."""

import sys

from mnode import Node

node = Node()
broken = "--broken" in sys.argv
KEY = "counter"
bumps = 0
adds = 0


def add(delta, done):
    def got(body):
        current = body.get("value", 0) if body["type"] == "read_ok" else 0

        def cased(reply):
            if reply["type"] == "cas_ok":
                done()
            else:
                add(delta, done)

        node.rpc(
            "seq-kv",
            {
                "type": "cas",
                "key": KEY,
                "from": current,
                "to": current + delta,
                "create_if_not_exists": True,
            },
            cased,
        )

    node.rpc("seq-kv", {"type": "read", "key": KEY}, got)


@node.handler("add")
def on_add(n, msg):
    global adds
    adds += msg["body"]["delta"] > 0
    if broken and msg["body"]["delta"] > 0 and adds % 3 == 0:
        n.reply(msg, {"type": "add_ok"})
        return
    add(msg["body"]["delta"], lambda: n.reply(msg, {"type": "add_ok"}))


@node.handler("read")
def on_read(n, msg):
    def got(body):
        n.reply(
            msg,
            {"type": "read_ok", "value": body.get("value", 0) if body["type"] == "read_ok" else 0},
        )

    def read():
        n.rpc("seq-kv", {"type": "read", "key": KEY}, got)

    global bumps
    bumps += 1
    n.rpc("seq-kv", {"type": "write", "key": f"sync-{n.id}", "value": bumps}, lambda _b: read())


node.run()
