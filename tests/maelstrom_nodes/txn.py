#!/usr/bin/env python3
"""txn-list-append and txn-rw-register on lin-kv: the whole database is one value, updated
by cas (retried on conflict): strict serializable. --broken reports every third writing
transaction aborted (txn-conflict, a definite error) but keeps its writes, so a later read
observes an aborted write (G1a), caught whatever the timing."""

import json
import sys

from mnode import Node

node = Node()
broken = "--broken" in sys.argv
writers = 0


def apply(db, txn):
    db = dict(db)
    out = []
    for f, k, v in txn:
        key = json.dumps(k)
        if f == "r":
            out.append([f, k, db.get(key)])
            continue
        db[key] = db.get(key, []) + [v] if f == "append" else v
        out.append([f, k, v])
    return db, out


@node.handler("txn")
def on_txn(n, msg):
    global writers
    txn = msg["body"]["txn"]
    lie = False
    if any(f != "r" for f, _, _ in txn):
        writers += 1
        lie = broken and writers % 3 == 0

    def attempt():
        def got(body):
            db = body["value"] if body["type"] == "read_ok" else {}
            new, out = apply(db, txn)

            def cased(reply):
                if reply["type"] != "cas_ok":
                    attempt()
                elif lie:
                    n.reply(msg, {"type": "error", "code": 30, "text": "aborted (not really)"})
                else:
                    n.reply(msg, {"type": "txn_ok", "txn": out})

            n.rpc(
                "lin-kv",
                {"type": "cas", "key": "root", "from": db, "to": new, "create_if_not_exists": True},
                cased,
            )

        n.rpc("lin-kv", {"type": "read", "key": "root"}, got)

    attempt()


node.run()
