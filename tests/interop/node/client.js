#!/usr/bin/env node
/*
 * One Node socket.io client run of the interop matrix: the features of ../features.js with
 * socket.io-client 4.x or 2.x over one transport mode, one JSON line per result on stdout,
 * then {"done": true}.
 *
 *   node client.js --client 4|2 --mode websocket|polling|upgrade --url http://127.0.0.1:PORT
 *                  [--run ID] [--features text,binary,...]
 */
"use strict";

const { parseArgs } = require("node:util");
const features = require("../features.js");

const { values } = parseArgs({
  options: {
    client: { type: "string", default: "4" },
    mode: { type: "string", default: "websocket" },
    url: { type: "string" },
    run: { type: "string", default: "run" },
    features: { type: "string", default: features.FEATURES.join(",") },
  },
});

const version = Number(values.client);
const io = version === 2 ? require("socket.io-client-v2") : require("socket.io-client");
const pkg = require(version === 2 ? "socket.io-client-v2/package.json" : "socket.io-client/package.json");

function log(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

// Nothing here may outlive the run: a hard stop well past every bounded wait.
setTimeout(() => {
  log({ error: "client.js hard timeout" });
  process.exit(2);
}, 120000).unref();

features
  .runAll({
    io,
    base: values.url,
    version,
    mode: values.mode,
    runId: values.run,
    features: values.features.split(","),
    log,
  })
  .then(
    () => {
      log({ done: true, client: `socket.io-client ${pkg.version}` });
      process.exit(0);
    },
    (err) => {
      log({ done: true, error: String(err && err.stack) });
      process.exit(1);
    }
  );
