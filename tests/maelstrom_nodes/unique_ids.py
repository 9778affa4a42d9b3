#!/usr/bin/env python3
"""Unique ids: NODE-COUNTER; with --broken the counter alone (ids repeat across nodes)."""

import sys

from mnode import Node

node = Node()
broken = "--broken" in sys.argv
count = 0


@node.handler("generate")
def generate(n, msg):
    global count
    count += 1
    n.reply(msg, {"type": "generate_ok", "id": count if broken else f"{n.id}-{count}"})


node.run()
