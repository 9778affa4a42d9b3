#!/usr/bin/env python3
"""Unique ids: NODE-COUNTER; with --broken the time in whole seconds (every id asked for
within one second repeats)."""

import sys
import time

from mnode import Node

node = Node()
broken = "--broken" in sys.argv
count = 0


@node.handler("generate")
def generate(n, msg):
    global count
    count += 1
    n.reply(msg, {"type": "generate_ok", "id": int(time.time()) if broken else f"{n.id}-{count}"})


node.run()
