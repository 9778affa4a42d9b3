#!/usr/bin/env node
// Broadcast (and g-set with --g-set) by gossip to the topology's neighbours, resending
// unacknowledged gossip every 100 ms; --broken acknowledges every third message it is given
// without keeping it (lost whatever the timing).
"use strict";
const { Node, broken } = require("./mnode");
const node = new Node();
const gset = process.argv.includes("--g-set");
const seen = new Set();
let neighbours = null;
const unacked = new Map();
let given = 0;

function peers() { return neighbours || node.nodeIds.filter((n) => n !== node.id); }
function gossip(peer, message) {
  node.rpc(peer, { type: "gossip", message }, () => unacked.delete(`${peer}\u0000${message}`));
}
function learn(message, origin) {
  if (origin === undefined && ++given % 3 === 0 && broken) return;
  if (seen.has(message)) return;
  seen.add(message);
  for (const peer of peers()) {
    if (peer === origin) continue;
    unacked.set(`${peer}\u0000${message}`, [peer, message]);
    gossip(peer, message);
  }
}
setInterval(() => { for (const [peer, m] of unacked.values()) gossip(peer, m); }, 100);
node.on("topology", (msg) => { neighbours = msg.body.topology[node.id] || []; node.reply(msg, { type: "topology_ok" }); });
node.on("broadcast", (msg) => { learn(msg.body.message); node.reply(msg, { type: "broadcast_ok" }); });
node.on("add", (msg) => { learn(msg.body.element); node.reply(msg, { type: "add_ok" }); });
node.on("gossip", (msg) => { learn(msg.body.message, msg.src); node.reply(msg, { type: "gossip_ok" }); });
node.on("read", (msg) => node.reply(msg, { type: "read_ok", [gset ? "value" : "messages"]: [...seen].sort((a, b) => a - b) }));
node.run();
