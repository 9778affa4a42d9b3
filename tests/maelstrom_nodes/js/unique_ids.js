#!/usr/bin/env node
// Unique ids NODE-COUNTER; --broken: the counter alone, which repeats across nodes.
"use strict";
const { Node, broken } = require("./mnode");
const node = new Node();
let count = 0;
node.on("generate", (msg) => {
  count += 1;
  node.reply(msg, { type: "generate_ok", id: broken ? count : `${node.id}-${count}` });
});
node.run();
