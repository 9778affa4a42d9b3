#!/usr/bin/env node
// Kafka on lin-kv: offsets taken by cas on "next-KEY", messages at "msg-KEY-OFFSET",
// committed offsets at "committed-KEY" (raised by cas, never lowered); a poll reads from
// the offset asked until the first missing one. --broken keeps each node's logs to itself.
"use strict";
const { Node, broken } = require("./mnode");
const node = new Node();
const MAX_POLL = 10;
const logs = {};
const committed = {};
const kv = (body) => new Promise((resolve) => node.rpc("lin-kv", body, resolve));

async function takeOffset(key) {
  for (;;) {
    const r = await kv({ type: "read", key: `next-${key}` });
    const current = r.type === "read_ok" ? r.value : 0;
    const c = await kv({ type: "cas", key: `next-${key}`, from: current, to: current + 1, create_if_not_exists: true });
    if (c.type === "cas_ok") return current;
  }
}

node.on("send", async (msg) => {
  const { key, msg: value } = msg.body;
  if (broken) {
    (logs[key] = logs[key] || []).push(value);
    return node.reply(msg, { type: "send_ok", offset: logs[key].length - 1 });
  }
  const offset = await takeOffset(key);
  await kv({ type: "write", key: `msg-${key}-${offset}`, value });
  node.reply(msg, { type: "send_ok", offset });
});

node.on("poll", async (msg) => {
  const out = {};
  for (const [key, start] of Object.entries(msg.body.offsets)) {
    const got = [];
    if (broken) {
      (logs[key] || []).forEach((v, o) => { if (o >= start && got.length < MAX_POLL) got.push([o, v]); });
    } else {
      for (let o = start; got.length < MAX_POLL; o++) {
        const r = await kv({ type: "read", key: `msg-${key}-${o}` });
        if (r.type !== "read_ok") break;
        got.push([o, r.value]);
      }
    }
    if (got.length) out[key] = got;
  }
  node.reply(msg, { type: "poll_ok", msgs: out });
});

node.on("commit_offsets", async (msg) => {
  for (const [key, offset] of Object.entries(msg.body.offsets)) {
    if (broken) { committed[key] = offset; continue; }
    for (;;) {
      const r = await kv({ type: "read", key: `committed-${key}` });
      const current = r.type === "read_ok" ? r.value : -1;
      if (current >= offset) break;
      const c = await kv({ type: "cas", key: `committed-${key}`, from: current, to: offset, create_if_not_exists: true });
      if (c.type === "cas_ok") break;
    }
  }
  node.reply(msg, { type: "commit_offsets_ok" });
});

node.on("list_committed_offsets", async (msg) => {
  const offsets = {};
  for (const key of msg.body.keys) {
    if (broken) { if (key in committed) offsets[key] = committed[key]; continue; }
    const r = await kv({ type: "read", key: `committed-${key}` });
    if (r.type === "read_ok") offsets[key] = r.value;
  }
  node.reply(msg, { type: "list_committed_offsets_ok", offsets });
});
node.run();
