#!/usr/bin/env node
/*
 * Headless Chromium (Debian's, driven by playwright-core) with the official socket.io-client
 * 4.x browser bundle, over WebSocket, against a thinkio server with per_message_deflate
 * (tests/interop/test_deflate.py). Chromium always offers permessage-deflate.
 *
 *   node deflate_chromium.js --url http://127.0.0.1:PORT [--size 200000]
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
        "socket.io.min.js"
      ),
    });
    const results = await page.evaluate(
      ({ url, size }) =>
        new Promise((resolve, reject) => {
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
        }),
      { url: values.url, size: Number(values.size) }
    );
    results.forEach(out);
    out({ done: true, browser: context.browser() ? context.browser().version() : "chromium" });
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    out({ done: true, error: String(err && err.stack) });
    process.exit(1);
  }
);
