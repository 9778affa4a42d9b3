#!/usr/bin/env python3
"""Echo node; with --broken it answers a changed payload; with --zero it uses msg_id 0."""

import sys

from mnode import Node

node = Node()
broken = "--broken" in sys.argv
zero = "--zero" in sys.argv


@node.handler("echo")
def echo(n, msg):
    payload = msg["body"]["echo"]
    body = {"type": "echo_ok", "echo": payload + "!" if broken else payload}
    if zero:
        body["msg_id"] = 0
    n.reply(msg, body)


node.run()
