#!/usr/bin/env python3
"""Kafka on lin-kv: a key's next offset is taken by cas on "next-KEY", its message stored
at "msg-KEY-OFFSET", committed offsets at "committed-KEY" (raised by cas, never lowered);
a poll reads offsets from the one asked until the first missing one. --broken writes every
third message twice, at two offsets (a retried append): a duplicate, caught whatever the
timing. --zero-committed reports a key never committed at offset 0, as some Gossip Glomers
solutions do (a client must then poll from 0, not from 1, or it skips each key's first
message)."""

import sys

from mnode import Node

node = Node()
broken = "--broken" in sys.argv
zero_committed = "--zero-committed" in sys.argv
sends = 0
MAX_POLL = 10


def kv(body, callback):
    node.rpc("lin-kv", body, callback)


def take_offset(key, done):
    def got(body):
        current = body["value"] if body["type"] == "read_ok" else 0
        cas = {
            "type": "cas",
            "key": f"next-{key}",
            "from": current,
            "to": current + 1,
            "create_if_not_exists": True,
        }
        kv(cas, lambda r: done(current) if r["type"] == "cas_ok" else take_offset(key, done))

    kv({"type": "read", "key": f"next-{key}"}, got)


@node.handler("send")
def send(n, msg):
    global sends
    key, value = msg["body"]["key"], msg["body"]["msg"]
    sends += 1
    twice = broken and sends % 3 == 0

    def stored(offset):
        def written(_r):
            if twice:
                take_offset(key, lambda again: kv(write(again), lambda _r: ack()))
            else:
                ack()

        def ack():
            n.reply(msg, {"type": "send_ok", "offset": offset})

        kv(write(offset), written)

    def write(offset):
        return {"type": "write", "key": f"msg-{key}-{offset}", "value": value}

    take_offset(key, stored)


@node.handler("poll")
def poll(n, msg):
    wanted = dict(msg["body"]["offsets"])
    out = {}
    pending = list(wanted.items())

    def next_key():
        if not pending:
            n.reply(msg, {"type": "poll_ok", "msgs": out})
            return
        key, start = pending.pop()
        read_from(key, start, [])

    def read_from(key, offset, got):
        def answer(body):
            # a taken offset whose message is not written yet ends this poll, as a gap would
            if body["type"] != "read_ok" or len(got) >= MAX_POLL:
                if got:
                    out[key] = got
                next_key()
                return
            got.append([offset, body["value"]])
            read_from(key, offset + 1, got)

        kv({"type": "read", "key": f"msg-{key}-{offset}"}, answer)

    next_key()


@node.handler("commit_offsets")
def commit(n, msg):
    offsets = dict(msg["body"]["offsets"])
    pending = list(offsets.items())

    def next_key():
        if not pending:
            n.reply(msg, {"type": "commit_offsets_ok"})
            return
        key, offset = pending.pop()
        raise_to(key, offset)

    def raise_to(key, offset):
        def got(body):
            current = body["value"] if body["type"] == "read_ok" else -1
            if current >= offset:
                next_key()
                return
            cas = {
                "type": "cas",
                "key": f"committed-{key}",
                "from": current,
                "to": offset,
                "create_if_not_exists": True,
            }
            kv(cas, lambda r: next_key() if r["type"] == "cas_ok" else raise_to(key, offset))

        kv({"type": "read", "key": f"committed-{key}"}, got)

    next_key()


@node.handler("list_committed_offsets")
def list_committed(n, msg):
    keys = list(msg["body"]["keys"])
    out = {}

    def next_key():
        if not keys:
            n.reply(msg, {"type": "list_committed_offsets_ok", "offsets": out})
            return
        key = keys.pop()

        def got(body):
            if body["type"] == "read_ok":
                out[key] = body["value"]
            elif zero_committed:
                out[key] = 0
            next_key()

        kv({"type": "read", "key": f"committed-{key}"}, got)

    next_key()


node.run()
