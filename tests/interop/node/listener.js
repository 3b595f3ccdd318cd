#!/usr/bin/env node
/*
 * A socket.io-client 4.x that waits for one event: the Node client side of the ASGI tests
 * (tests/asgi).
 *
 *   node listener.js --url http://127.0.0.1:PORT [--path /ws/socket.io]
 *                    --mode polling|websocket|upgrade --event notice
 *
 * Prints {"connected": id, "transport": ...} once connected (after the upgrade, in the
 * upgrade mode), then {"event": name, "args": [...], "transport": ...} and exits.
 */
"use strict";

const { parseArgs } = require("node:util");
const { io } = require("socket.io-client");

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    path: { type: "string", default: "/socket.io" },
    mode: { type: "string", default: "upgrade" },
    event: { type: "string", default: "notice" },
  },
});

function say(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

setTimeout(() => {
  say({ error: "listener.js hard timeout" });
  process.exit(2);
}, 20000).unref();

const transports = { polling: ["polling"], websocket: ["websocket"], upgrade: ["polling", "websocket"] }[values.mode];
const socket = io(values.url, { path: values.path, transports, reconnection: false });
const transport = () => socket.io.engine.transport.name;

let announced = false;
function announce() {
  if (!announced) {
    announced = true;
    say({ connected: socket.id, transport: transport() });
  }
}

socket.on("connect", () => {
  if (values.mode !== "upgrade" || transport() === "websocket") {
    announce();
  } else {
    socket.io.engine.once("upgrade", announce);
  }
});
socket.on("connect_error", (err) => {
  say({ error: "connect_error: " + err.message });
  process.exit(1);
});
socket.on(values.event, (...args) => {
  say({ event: values.event, args, transport: transport() });
  // No process.exit here: Node exits once the disconnect is sent (on polling, a POST still
  // in flight). Exiting at once would orphan the session on the server, which a later test's
  // broadcast then queues for: the server's graceful shutdown would wait for it.
  socket.disconnect();
});
