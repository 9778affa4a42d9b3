#!/usr/bin/env python3
"""lin-kv by proxy: every request forwarded to a kv service (argv[1], default lin-kv)
and its answer passed back. Proxying to seq-kv is not linearizable."""

import sys

from mnode import Node

node = Node()
service = sys.argv[1] if len(sys.argv) > 1 else "lin-kv"


def proxy(n, msg):
    body = {k: v for k, v in msg["body"].items() if k != "msg_id"}

    def answer(reply):
        n.reply(msg, {k: v for k, v in reply.items() if k not in ("msg_id", "in_reply_to")})

    n.rpc(service, body, answer)


for kind in ("read", "write", "cas"):
    node.handlers[kind] = proxy
node.run()
