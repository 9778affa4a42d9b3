#!/usr/bin/env node
// A counter on seq-kv: adds by read + cas; reads first write a key of the node's own so
// the store catches it up. --broken acknowledges every third positive add without applying
// it (always a lower sum, so caught also for a pn-counter).
"use strict";
const { Node, broken } = require("./mnode");
const node = new Node();
let bumps = 0;
let adds = 0;
function add(delta, done) {
  node.rpc("seq-kv", { type: "read", key: "counter" }, (body) => {
    const current = body.type === "read_ok" ? body.value : 0;
    node.rpc("seq-kv", { type: "cas", key: "counter", from: current, to: current + delta, create_if_not_exists: true },
      (r) => (r.type === "cas_ok" ? done() : add(delta, done)));
  });
}
node.on("add", (msg) => {
  if (msg.body.delta > 0 && ++adds % 3 === 0 && broken) return node.reply(msg, { type: "add_ok" });
  add(msg.body.delta, () => node.reply(msg, { type: "add_ok" }));
});
node.on("read", (msg) => {
  const read = () => node.rpc("seq-kv", { type: "read", key: "counter" },
    (b) => node.reply(msg, { type: "read_ok", value: b.type === "read_ok" ? b.value : 0 }));
  bumps += 1;
  node.rpc("seq-kv", { type: "write", key: `sync-${node.id}`, value: bumps }, read);
});
node.run();
