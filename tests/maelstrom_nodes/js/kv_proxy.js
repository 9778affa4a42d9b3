#!/usr/bin/env node
// lin-kv by proxy to a kv service (argv[2], default lin-kv); to seq-kv it is not linearizable.
"use strict";
const { Node } = require("./mnode");
const node = new Node();
const service = process.argv[2] || "lin-kv";
for (const type of ["read", "write", "cas"]) {
  node.on(type, (msg) => {
    const { msg_id, ...body } = msg.body;
    node.rpc(service, body, (r) => {
      const { msg_id: _m, in_reply_to: _i, ...rest } = r;
      node.reply(msg, rest);
    });
  });
}
node.run();
