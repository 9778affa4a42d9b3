#!/usr/bin/env python3
"""txn-list-append on lin-kv: the whole database is one value, updated by cas (retried
on conflict): strict serializable. --broken keeps a database per node, shared with no one."""

import json
import sys

from mnode import Node

node = Node()
broken = "--broken" in sys.argv
local = {}


def apply(db, txn):
    db = {k: list(v) for k, v in db.items()}
    out = []
    for f, k, v in txn:
        key = json.dumps(k)
        if f == "r":
            out.append([f, k, list(db[key]) if key in db else None])
        else:
            db.setdefault(key, []).append(v)
            out.append([f, k, v])
    return db, out


@node.handler("txn")
def on_txn(n, msg):
    txn = msg["body"]["txn"]
    if broken:
        global local
        local, out = apply(local, txn)
        n.reply(msg, {"type": "txn_ok", "txn": out})
        return

    def attempt():
        def got(body):
            db = body["value"] if body["type"] == "read_ok" else {}
            new, out = apply(db, txn)

            def cased(reply):
                if reply["type"] == "cas_ok":
                    n.reply(msg, {"type": "txn_ok", "txn": out})
                else:
                    attempt()

            n.rpc(
                "lin-kv",
                {"type": "cas", "key": "root", "from": db, "to": new, "create_if_not_exists": True},
                cased,
            )

        n.rpc("lin-kv", {"type": "read", "key": "root"}, got)

    attempt()


node.run()
