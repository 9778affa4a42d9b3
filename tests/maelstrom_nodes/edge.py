#!/usr/bin/env python3
"""An echo node that exercises the protocol's edge cases, one flag each:

--zero          replies carry msg_id 0
--forward       nodes other than the first forward client requests to the first with the
                client's id in src; the first answers the client directly
--malformed     echo_ok without its echo field
--unknown-dest  also sends a message to n99, and writes a line that is not JSON
--crash-after K exits with code 3 after K echo requests (stderr says so)
--no-init       never answers init (it logs that it got one)
--stderr-flood M  once initialised, the first node writes M MiB of numbered lines to stderr
                  as fast as it can, then "flood done"
"""

import sys
import threading

from mnode import Node

node = Node()
flags = sys.argv[1:]
served = 0


def flag_value(name):
    return int(flags[flags.index(name) + 1])


if "--no-init" in flags:
    original = node._dispatch

    def swallow_init(msg):
        if msg["body"].get("type") == "init":
            node.log("got init; not answering it")
            return
        original(msg)

    node._dispatch = swallow_init


def flood():
    line = 0
    for _ in range(flag_value("--stderr-flood") * 16):
        block = "".join(f"flood line {line + i:08d} {'x' * 43}\n" for i in range(1024))
        line += 1024
        sys.stderr.write(block)
    sys.stderr.write("flood done\n")
    sys.stderr.flush()


if "--stderr-flood" in flags:

    def start_flood():
        if node.id == node.node_ids[0]:
            threading.Thread(target=flood, daemon=True).start()

    node.on_init = start_flood


@node.handler("echo")
def echo(n, msg):
    global served
    served += 1
    if "--crash-after" in flags and served > flag_value("--crash-after"):
        n.log(f"crashing on purpose after {served - 1} echoes")
        sys.exit(3)
    first = n.node_ids[0]
    if "--forward" in flags and n.id != first and not msg["body"].get("forwarded"):
        body = dict(msg["body"], forwarded=n.id)
        sys.stdout.write(
            __import__("json").dumps({"src": msg["src"], "dest": first, "body": body}) + "\n"
        )
        sys.stdout.flush()
        return
    if "--unknown-dest" in flags:
        n.send("n99", {"type": "hello"})
        sys.stdout.write("this is not JSON\n")
        sys.stdout.flush()
    body = {"type": "echo_ok", "echo": msg["body"]["echo"]}
    if "--malformed" in flags:
        del body["echo"]
    if "--zero" in flags:
        body["msg_id"] = 0
    n.reply(msg, body)


node.run()
