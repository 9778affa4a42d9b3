#!/usr/bin/env node
// Kafka on lin-kv: offsets taken by cas on "next-KEY", messages at "msg-KEY-OFFSET",
// committed offsets at "committed-KEY" (raised by cas, never lowered); a poll reads from
// the offset asked until the first missing one. --broken writes every third message twice, at
// two offsets (a retried append): a duplicate, caught whatever the timing.
"use strict";
const { Node, broken } = require("./mnode");
const node = new Node();
const MAX_POLL = 10;
let sends = 0;
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
  const twice = ++sends % 3 === 0 && broken;
  const offset = await takeOffset(key);
  await kv({ type: "write", key: `msg-${key}-${offset}`, value });
  if (twice) await kv({ type: "write", key: `msg-${key}-${await takeOffset(key)}`, value });
  node.reply(msg, { type: "send_ok", offset });
});

node.on("poll", async (msg) => {
  const out = {};
  for (const [key, start] of Object.entries(msg.body.offsets)) {
    const got = [];
    for (let o = start; got.length < MAX_POLL; o++) {
      const r = await kv({ type: "read", key: `msg-${key}-${o}` });
      if (r.type !== "read_ok") break;
      got.push([o, r.value]);
    }
    if (got.length) out[key] = got;
  }
  node.reply(msg, { type: "poll_ok", msgs: out });
});

node.on("commit_offsets", async (msg) => {
  for (const [key, offset] of Object.entries(msg.body.offsets)) {
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
    const r = await kv({ type: "read", key: `committed-${key}` });
    if (r.type === "read_ok") offsets[key] = r.value;
  }
  node.reply(msg, { type: "list_committed_offsets_ok", offsets });
});
node.run();
