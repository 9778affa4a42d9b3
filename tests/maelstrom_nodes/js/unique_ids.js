#!/usr/bin/env node
// Unique ids NODE-COUNTER; --broken: the time in whole seconds, which repeats within a second.
"use strict";
const { Node, broken } = require("./mnode");
const node = new Node();
let count = 0;
node.on("generate", (msg) => {
  count += 1;
  node.reply(msg, { type: "generate_ok", id: broken ? Math.floor(Date.now() / 1000) : `${node.id}-${count}` });
});
node.run();
