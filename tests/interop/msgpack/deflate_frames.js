#!/usr/bin/env node
/*
 * socket.io-client 4.x (Node, `ws` with perMessageDeflate) against a thinkio server with
 * per_message_deflate on (tests/interop/test_deflate.py): which server frames arrive
 * compressed. One JSON line per check on stdout, then {"done": true}.
 *
 *   node deflate_frames.js --url http://127.0.0.1:PORT --ask plain,packed,...
 *
 * For each name of --ask the client calls the server's "send" event with it (the server emits
 * "big" to this client in the way the name says, then acks) and reports the data frames that
 * arrived meanwhile: [RSV1 set, payload length on the wire], and the length of "big" as the
 * client's socket.io got it. RSV1 is not exposed by `ws`, so the frames' headers are read off
 * the raw TCP stream (`ws._socket`, the net.Socket under the WebSocket) beside `ws`'s own
 * reader: server frames are unmasked, so a header is 2, 4 or 10 bytes.
 */
"use strict";

const { parseArgs } = require("node:util");
const { io } = require("socket.io-client");

const { values } = parseArgs({
  options: { url: { type: "string" }, ask: { type: "string", default: "" } },
});

function log(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

setTimeout(() => {
  log({ error: "deflate_frames.js hard timeout" });
  process.exit(2);
}, 30000).unref();

function once(socket, event) {
  return new Promise((resolve) => socket.once(event, (...args) => resolve(args)));
}

function watchFrames(raw, frames) {
  let pending = Buffer.alloc(0);
  raw.on("data", (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      if (pending.length < 2) return;
      let length = pending[1] & 0x7f;
      let head = 2;
      if (length === 126) {
        if (pending.length < 4) return;
        length = pending.readUInt16BE(2);
        head = 4;
      } else if (length === 127) {
        if (pending.length < 10) return;
        length = Number(pending.readBigUInt64BE(2));
        head = 10;
      }
      if (pending.length < head + length) return;
      const opcode = pending[0] & 0x0f;
      if (opcode <= 2) frames.push([Boolean(pending[0] & 0x40), length]);
      pending = pending.subarray(head + length);
    }
  });
}

async function run() {
  const socket = io(values.url, {
    transports: ["websocket"],
    reconnection: false,
    perMessageDeflate: { threshold: 0 },
  });
  await once(socket, "connect");
  const ws = socket.io.engine.transport.ws;
  log({ check: "connect", extensions: ws.extensions });
  const frames = [];
  watchFrames(ws._socket, frames); // nothing is in flight: the next byte starts a frame
  let received = null;
  socket.on("big", (text) => {
    received = text.length;
  });
  for (const name of values.ask.split(",").filter(Boolean)) {
    frames.length = 0;
    received = null;
    await socket.timeout(10000).emitWithAck("send", name);
    log({ check: name, frames: frames.slice(), length: received });
  }
  socket.disconnect();
}

run().then(
  () => {
    log({ done: true });
    process.exit(0);
  },
  (err) => {
    log({ done: true, error: String(err && err.stack) });
    process.exit(1);
  }
);
