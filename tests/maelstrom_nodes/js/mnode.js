// A tiny Maelstrom node library for splitbrain's own JavaScript test nodes.
"use strict";
const readline = require("readline");

class Node {
  constructor() {
    this.id = "";
    this.nodeIds = [];
    this.handlers = {};
    this.callbacks = new Map();
    this.nextId = 0;
    this.onInit = null;
  }
  on(type, fn) { this.handlers[type] = fn; }
  send(dest, body) {
    process.stdout.write(JSON.stringify({ src: this.id, dest, body }) + "\n");
  }
  reply(msg, body) { this.send(msg.src, { ...body, in_reply_to: msg.body.msg_id }); }
  rpc(dest, body, cb) {
    this.nextId += 1;
    this.callbacks.set(this.nextId, cb);
    this.send(dest, { ...body, msg_id: this.nextId });
  }
  dispatch(msg) {
    const body = msg.body;
    if (this.callbacks.has(body.in_reply_to)) {
      const cb = this.callbacks.get(body.in_reply_to);
      this.callbacks.delete(body.in_reply_to);
      cb(body);
      return;
    }
    if (body.type === "init") {
      this.id = body.node_id;
      this.nodeIds = body.node_ids;
      this.reply(msg, { type: "init_ok" });
      if (this.onInit) this.onInit();
      return;
    }
    const fn = this.handlers[body.type];
    if (fn) fn(msg);
  }
  run() {
    const rl = readline.createInterface({ input: process.stdin });
    rl.on("line", (line) => { if (line.trim()) this.dispatch(JSON.parse(line)); });
  }
}
module.exports = { Node, broken: process.argv.includes("--broken") };
