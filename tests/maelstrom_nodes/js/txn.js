#!/usr/bin/env node
// txn-list-append on lin-kv: the whole database one value, updated by cas and retried on
// conflict. --broken keeps a database per node, shared with no one.
"use strict";
const { Node, broken } = require("./mnode");
const node = new Node();
let local = {};
function apply(db, txn) {
  const next = JSON.parse(JSON.stringify(db));
  const out = txn.map(([f, k, v]) => {
    const key = JSON.stringify(k);
    if (f === "r") return [f, k, next[key] ? [...next[key]] : null];
    (next[key] = next[key] || []).push(v);
    return [f, k, v];
  });
  return [next, out];
}
node.on("txn", (msg) => {
  if (broken) {
    const [next, out] = apply(local, msg.body.txn);
    local = next;
    return node.reply(msg, { type: "txn_ok", txn: out });
  }
  const attempt = () => node.rpc("lin-kv", { type: "read", key: "root" }, (b) => {
    const db = b.type === "read_ok" ? b.value : {};
    const [next, out] = apply(db, msg.body.txn);
    node.rpc("lin-kv", { type: "cas", key: "root", from: db, to: next, create_if_not_exists: true },
      (r) => (r.type === "cas_ok" ? node.reply(msg, { type: "txn_ok", txn: out }) : attempt()));
  });
  attempt();
});
node.run();
