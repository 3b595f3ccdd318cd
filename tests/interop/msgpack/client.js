#!/usr/bin/env node
/*
 * socket.io-client 4.x with socket.io-msgpack-parser against a thinkio server started with
 * parser="msgpack" (tests/interop/test_msgpack_node.py). One JSON line per check on stdout,
 * then {"done": true}.
 *
 *   node client.js --url http://127.0.0.1:PORT --transport polling|websocket|upgrade
 *                  [--deflate]   (perMessageDeflate {threshold: 0}, default parser)
 *
 * What the server does is in the Python test; this side sends and records:
 *   echo:      nested data with Buffers, acked back unchanged (deep-equal checked here)
 *   welcome:   the server's emit on connect, with a Buffer
 *   question:  the server asks with an ack; the answer carries a Buffer
 *   /chat:     a second namespace on the same connection, with an ack
 *   /private:  refused by a middleware: connect_error with message and data
 *   /nowhere:  no such namespace: connect_error "Invalid namespace"
 */
"use strict";

const { parseArgs } = require("node:util");
const assert = require("node:assert");
const { io } = require("socket.io-client");
const msgpackParser = require("socket.io-msgpack-parser");

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    transport: { type: "string", default: "websocket" },
    deflate: { type: "boolean", default: false },
    size: { type: "string", default: "200000" },
  },
});

function log(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

setTimeout(() => {
  log({ error: "client.js hard timeout" });
  process.exit(2);
}, 30000).unref();

const TRANSPORTS = {
  polling: ["polling"],
  websocket: ["websocket"],
  upgrade: ["polling", "websocket"],
};

function options(extra) {
  const opts = {
    transports: TRANSPORTS[values.transport],
    reconnection: false,
    forceNew: false,
    ...extra,
  };
  if (values.deflate) {
    opts.perMessageDeflate = { threshold: 0 };
  } else {
    opts.parser = msgpackParser;
  }
  return opts;
}

function once(socket, event) {
  return new Promise((resolve) => socket.once(event, (...args) => resolve(args)));
}

// Every argument of the ack (emitWithAck keeps only the first).
function call(socket, event, ...args) {
  return new Promise((resolve, reject) =>
    socket.timeout(10000).emit(event, ...args, (err, ...answer) => (err ? reject(err) : resolve(answer)))
  );
}

const hex = (b) => Buffer.from(b).toString("hex");

async function msgpackRun() {
  const root = io(values.url, options({ auth: { token: "let-me-in" } }));
  const welcome = once(root, "welcome");
  const askedP = once(root, "asked");
  root.on("question", (q, answer) => answer(`answer to ${q}`, Buffer.from([0, 1, 2])));
  await once(root, "connect");
  log({ check: "connect", id: root.id, transport: root.io.engine.transport.name });

  const [greeting, blob] = await welcome;
  log({ check: "welcome", greeting, blob: hex(blob), isBuffer: Buffer.isBuffer(blob) });

  const sent = [
    { nested: { list: [1, 2.5, "three", null, true], bin: Buffer.from([0xde, 0xad]) } },
    Buffer.from("\x00\xff binary", "latin1"),
    -42,
  ];
  const echoed = await call(root, "echo", ...sent);
  assert.deepStrictEqual(echoed, sent);
  log({ check: "echo", args: echoed.length, bin: hex(echoed[0].nested.bin) });

  const asked = await askedP;
  log({ check: "asked", answer: asked });

  const chat = io(values.url + "/chat", options());
  await once(chat, "connect");
  const chatAck = await call(chat, "hello", "from chat");
  log({ check: "chat", ack: chatAck, sameEngine: chat.io === root.io });

  const priv = io(values.url + "/private", options());
  const [err] = await once(priv, "connect_error");
  log({ check: "private", message: err.message, data: err.data });

  const nowhere = io(values.url + "/nowhere", options());
  const [err2] = await once(nowhere, "connect_error");
  log({ check: "nowhere", message: err2.message });

  const bye = once(root, "disconnect");
  root.emit("bye");
  const [reason] = await bye;
  log({ check: "disconnect", reason });
  root.io.engine.close();
}

async function deflateRun() {
  const socket = io(values.url, options());
  const pushedP = once(socket, "pushed");
  await once(socket, "connect");
  const transport = socket.io.engine.transport;
  log({ check: "connect", transport: transport.name, extensions: transport.ws && transport.ws.extensions });
  const size = Number(values.size);
  const text = "compress me please ".repeat(Math.ceil(size / 19)).slice(0, size);
  const back = await call(socket, "big", text);
  log({ check: "big", same: back[0] === text, length: back[0].length });
  const [pushed] = await pushedP;
  log({ check: "pushed", length: pushed.length, start: pushed.slice(0, 10) });
  socket.disconnect();
}

(values.deflate ? deflateRun() : msgpackRun()).then(
  () => {
    log({ done: true });
    process.exit(0);
  },
  (err) => {
    log({ done: true, error: String(err && err.stack) });
    process.exit(1);
  }
);
