#!/usr/bin/env node
/*
 * Headless Chromium (Debian's, driven by playwright-core) with the official socket.io-client
 * 4.x browser bundle, over WebSocket, against a thinkio server with per_message_deflate
 * (tests/interop/test_deflate.py). Chromium always offers permessage-deflate.
 *
 *   node deflate_chromium.js --url http://127.0.0.1:PORT [--size 200000]
 *   node deflate_chromium.js --url http://127.0.0.1:PORT --msgpack --transport polling|websocket
 *
 * --msgpack loads the bundle with socket.io-msgpack-parser built in (socket.io.msgpack.min.js)
 * against a server with parser="msgpack" (tests/interop/test_msgpack_node.py): ArrayBuffers
 * out (notepack's ArrayBuffer extension), bytes back (ArrayBuffer), acks both ways.
 *
 * Prints JSON lines: the negotiated extensions (the WebSocket's `extensions`, i.e. the 101's
 * Sec-WebSocket-Extensions), a large message acked back, a large server push; then
 * {"done": true}.
 */
"use strict";

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { parseArgs } = require("node:util");
const { chromium } = require("playwright-core");

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    size: { type: "string", default: "200000" },
    msgpack: { type: "boolean", default: false },
    transport: { type: "string", default: "websocket" },
    executable: { type: "string", default: "/usr/bin/chromium" },
  },
});

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

setTimeout(() => {
  out({ done: true, error: "deflate_chromium.js hard timeout" });
  process.exit(2);
}, 60000).unref();

async function main() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "thinkio-deflate-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: values.executable,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    timeout: 30000,
  });
  try {
    const page = await context.newPage();
    page.on("pageerror", (err) => out({ console: "pageerror: " + err.message }));
    // A page of the server's own origin (its 404 is fine): about:blank cannot reach loopback.
    await page.goto(values.url + "/deflate-test");
    await page.addScriptTag({
      path: path.join(
        path.dirname(require.resolve("socket.io-client/package.json")),
        "dist",
        values.msgpack ? "socket.io.msgpack.min.js" : "socket.io.min.js"
      ),
    });
    const results = await page.evaluate(values.msgpack ? msgpackPage : deflatePage, {
      url: values.url,
      size: Number(values.size),
      transport: values.transport,
    });
    results.forEach(out);
    out({ check: "browser", version: context.browser() ? context.browser().version() : "?" });
    out({ done: true });
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

/* In the page, with the msgpack bundle: echo ArrayBuffers and nested data; answer a call. */
function msgpackPage({ url, transport }) {
  return new Promise((resolve, reject) => {
    const lines = [];
    const socket = io(url, { transports: [transport], reconnection: false });
    const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
    socket.on("question", (q, answer) => answer("browser says " + q, new Uint8Array([7, 8]).buffer));
    socket.on("connect_error", (err) => reject(new Error("connect_error: " + err.message)));
    socket.on("asked", (answer) => {
      lines.push({ check: "asked", answer });
    });
    socket.on("connect", () => {
      lines.push({ check: "connect", transport: socket.io.engine.transport.name });
      // ArrayBuffers: the bundle's encoder writes a typed array as a map of its indexes.
      const sent = { list: [1, 2.5, "three", null, true], bin: new Uint8Array([0xde, 0xad]).buffer };
      socket.timeout(10000).emit("echo", sent, new Uint8Array([0, 255]).buffer, (err, back, blob) => {
        if (err) return reject(err);
        lines.push({
          check: "echo",
          list: back.list,
          bin: hex(back.bin),
          blob: hex(blob),
          isArrayBuffer: blob instanceof ArrayBuffer,
        });
        const wait = () => (lines.some((l) => l.check === "asked") ? finish() : setTimeout(wait, 10));
        const finish = () => {
          socket.disconnect();
          resolve(lines);
        };
        wait();
      });
    });
  });
}

/* In the page, with the default bundle: a large message acked back, a large push. */
function deflatePage({ url, size }) {
  return new Promise((resolve, reject) => {
    const lines = [];
    const socket = io(url, { transports: ["websocket"], reconnection: false });
    const text = "compress me please ".repeat(Math.ceil(size / 19)).slice(0, size);
    let pushed = null;
    let acked = null;
    const finish = () => {
      if (pushed === null || acked === null) return;
      lines.push({ check: "big", same: acked === text, length: acked.length });
      lines.push({ check: "pushed", length: pushed.length, start: pushed.slice(0, 10) });
      socket.disconnect();
      resolve(lines);
    };
    socket.on("pushed", (data) => {
      pushed = data;
      finish();
    });
    socket.on("connect_error", (err) => reject(new Error("connect_error: " + err.message)));
    socket.on("connect", () => {
      const ws = socket.io.engine.transport.ws;
      lines.push({ check: "connect", transport: socket.io.engine.transport.name, extensions: ws.extensions });
      socket.timeout(10000).emit("big", text, (err, back) => {
        if (err) return reject(err);
        acked = back;
        finish();
      });
    });
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    out({ done: true, error: String(err && err.stack) });
    process.exit(1);
  }
);
