#!/usr/bin/env node
// Echo; --broken answers a changed payload.
"use strict";
const { Node, broken } = require("./mnode");
const node = new Node();
node.on("echo", (msg) => node.reply(msg, { type: "echo_ok", echo: broken ? msg.body.echo + "!" : msg.body.echo }));
node.run();
