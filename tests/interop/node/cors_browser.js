#!/usr/bin/env node
/*
 * Headless Chromium (Debian's, via playwright-core) as a page of one origin talking to
 * Socket.IO servers on other origins: what the browser itself allows, not what headers say.
 *
 *   node cors_browser.js '{"page": "http://127.0.0.1:P", "checks": [...]}'
 *
 * Each check runs in a fresh page of one browser context, opened at PAGE/page/blank.html
 * (the test serves it, with /page/sio4.js and /page/sio2.js: the official socket.io-client
 * 4.x and 2.x browser bundles):
 *   {"name": N, "kind": "fetch", "url": U, "credentials": "omit"|"include", "headers": {...}}
 *   {"name": N, "kind": "socketio", "bundle": 4|2, "url": U, "path": P,
 *    "transports": [...], "withCredentials": true|false|null (null: the client's default)}
 *   {"name": N, "kind": "websocket", "url": "ws://..."}
 * and prints one JSON line: {"browser": VERSION, "results": {N: {"ok": bool, ...}}}.
 * Every wait in the page is bounded (CHECK_TIMEOUT_MS); the whole run is bounded by the test.
 */
"use strict";

const { chromium } = require("playwright-core");

const CHECK_TIMEOUT_MS = 8000;
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/* Runs in the page. */
async function inPage(check) {
  const timeout = (ms) => new Promise((resolve) =>
    setTimeout(() => resolve({ ok: false, error: "timed out" }), ms));
  async function run() {
    if (check.kind === "fetch") {
      try {
        const r = await fetch(check.url, { credentials: check.credentials, headers: check.headers || {} });
        const body = await r.text();
        return { ok: true, status: r.status, body: body.slice(0, 60) };
      } catch (err) {
        return { ok: false, error: String(err) };
      }
    }
    if (check.kind === "websocket") {
      return new Promise((resolve) => {
        const ws = new WebSocket(check.url);
        ws.onmessage = (event) => { resolve({ ok: true, first: String(event.data).slice(0, 2) }); ws.close(); };
        ws.onerror = () => resolve({ ok: false, error: "error event" });
        ws.onclose = (event) => resolve({ ok: false, error: "closed " + event.code });
      });
    }
    // socketio: the official bundle the page loaded (4.x or 2.x), one connection attempt.
    const opts = { path: check.path, transports: check.transports, reconnection: false,
      forceNew: true, timeout: check.timeout - 1000 };
    if (check.withCredentials !== null) opts.withCredentials = check.withCredentials;
    return new Promise((resolve) => {
      const socket = window.io(check.url, opts);
      socket.on("connect", () => {
        resolve({ ok: true, transport: socket.io.engine.transport.name });
        socket.close();
      });
      const fail = (err) => {
        resolve({ ok: false, error: String((err && err.message) || err) });
        socket.close();
      };
      socket.on("connect_error", fail);
      socket.on("error", fail);
    });
  }
  return Promise.race([run(), timeout(check.timeout)]);
}

async function main() {
  const { page: pageUrl, checks } = JSON.parse(process.argv[2]);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: FLAGS,
    timeout: 30000,
  });
  const results = {};
  try {
    const context = await browser.newContext();
    for (const check of checks) {
      const page = await context.newPage();
      const file = check.kind === "socketio" ? `sio${check.bundle}.html` : "blank.html";
      await page.goto(`${pageUrl}/page/${file}`, { timeout: 10000 });
      results[check.name] = await page.evaluate(inPage, { ...check, timeout: CHECK_TIMEOUT_MS });
      await page.close();
    }
    process.stdout.write(JSON.stringify({ browser: browser.version(), results }) + "\n");
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ fatal: String(err && err.stack) }) + "\n");
  process.exit(1);
});
