#!/usr/bin/env python3
"""Broadcast and g-set by gossip to the neighbours (broadcast: topology; g-set: everyone).
Unacknowledged gossip is resent every 100 ms. --broken acknowledges every third message it is
given without keeping it (no read ever has it: lost, caught whatever the timing)."""

import sys

from mnode import Node

node = Node()
broken = "--broken" in sys.argv
seen = set()
neighbours = []
unacked = {}  # (peer, message) -> True
given = 0


def peers():
    return neighbours or [m for m in node.node_ids if m != node.id]


def learn(message, origin=None):
    global given
    if origin is None:
        given += 1
        if broken and given % 3 == 0:
            return
    if message in seen:
        return
    seen.add(message)
    for peer in peers():
        if peer != origin:
            unacked[(peer, message)] = True
            gossip(peer, message)


def gossip(peer, message):
    def acked(body):
        unacked.pop((peer, message), None)

    node.rpc(peer, {"type": "gossip", "message": message}, acked)


def resend():
    for peer, message in list(unacked):
        gossip(peer, message)


node.every(0.1, resend)


@node.handler("topology")
def topology(n, msg):
    neighbours[:] = msg["body"]["topology"].get(n.id, [])
    n.reply(msg, {"type": "topology_ok"})


@node.handler("broadcast")
def broadcast(n, msg):
    learn(msg["body"]["message"])
    n.reply(msg, {"type": "broadcast_ok"})


@node.handler("add")
def add(n, msg):
    learn(msg["body"]["element"])
    n.reply(msg, {"type": "add_ok"})


@node.handler("gossip")
def on_gossip(n, msg):
    learn(msg["body"]["message"], msg["src"])
    n.reply(msg, {"type": "gossip_ok"})


@node.handler("read")
def read(n, msg):
    key = "value" if "--g-set" in sys.argv else "messages"
    n.reply(msg, {"type": "read_ok", key: sorted(seen)})


node.run()
