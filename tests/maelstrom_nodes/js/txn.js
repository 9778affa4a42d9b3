#!/usr/bin/env node
// txn-list-append and txn-rw-register on lin-kv: the whole database one value, updated by
// cas and retried on conflict. --broken reports every third writing transaction aborted
// (txn-conflict, definite) but keeps its writes: a later read sees an aborted write (G1a).
"use strict";
const { Node, broken } = require("./mnode");
const node = new Node();
let writers = 0;
function apply(db, txn) {
  const next = { ...db };
  const out = txn.map(([f, k, v]) => {
    const key = JSON.stringify(k);
    if (f === "r") return [f, k, key in next ? next[key] : null];
    next[key] = f === "append" ? [...(next[key] || []), v] : v;
    return [f, k, v];
  });
  return [next, out];
}
node.on("txn", (msg) => {
  const lie = msg.body.txn.some(([f]) => f !== "r") && ++writers % 3 === 0 && broken;
  const attempt = () => node.rpc("lin-kv", { type: "read", key: "root" }, (b) => {
    const db = b.type === "read_ok" ? b.value : {};
    const [next, out] = apply(db, msg.body.txn);
    node.rpc("lin-kv", { type: "cas", key: "root", from: db, to: next, create_if_not_exists: true }, (r) => {
      if (r.type !== "cas_ok") return attempt();
      if (lie) return node.reply(msg, { type: "error", code: 30, text: "aborted (not really)" });
      node.reply(msg, { type: "txn_ok", txn: out });
    });
  });
  attempt();
});
node.run();
