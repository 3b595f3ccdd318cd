#!/usr/bin/env node
/*
 * Headless Chromium (Debian's, via playwright-core) as a page of one origin talking to
 * Socket.IO servers on other origins: what the browser itself allows, not what headers say.
 *
 *   node cors_browser.js        (then one JSON run per line on stdin; EOF closes the browser)
 *
 * Prints {"ready": true, "browser": VERSION} once the browser is up. Each run,
 *   {"page": "http://127.0.0.1:P", "checks": [...]},
 * gets a fresh browser context. Its checks run in order, in pages of it opened at
 * PAGE/page/blank.html, sio4.html or sio2.html (the test serves them, with the official
 * socket.io-client 4.x and 2.x browser bundles), one page per file; every socket a check
 * opens is closed before the next:
 *   {"name": N, "kind": "fetch", "url": U, "credentials": "omit"|"include", "headers": {...}}
 *   {"name": N, "kind": "socketio", "bundle": 4|2, "url": U, "path": P,
 *    "transports": [...], "withCredentials": true|false|null (null: the client's default)}
 *   {"name": N, "kind": "websocket", "url": "ws://..."}
 * and each run prints one JSON line: {"results": {N: {"ok": bool, ...}}} (or {"error": ...}).
 * Every wait in the page is bounded (CHECK_TIMEOUT_MS); each run is bounded by the test.
 */
"use strict";

const readline = require("node:readline");
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
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: FLAGS,
    timeout: 30000,
  });
  const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
  out({ ready: true, browser: browser.version() });
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const { page: pageUrl, checks } = JSON.parse(line);
    const context = await browser.newContext(); // nothing carries over from a previous run
    const results = {};
    const pages = new Map(); // one page per file: a new page costs a renderer process
    try {
      for (const check of checks) {
        const file = check.kind === "socketio" ? `sio${check.bundle}.html` : "blank.html";
        if (!pages.has(file)) {
          const page = await context.newPage();
          await page.goto(`${pageUrl}/page/${file}`, { timeout: 10000 });
          pages.set(file, page);
        }
        const page = pages.get(file);
        results[check.name] = await page.evaluate(inPage, { ...check, timeout: CHECK_TIMEOUT_MS });
      }
      out({ results });
    } catch (err) {
      out({ error: String(err && err.stack) });
    } finally {
      await context.close().catch(() => {});
    }
  }
  await browser.close(); // stdin closed: the test is done with the browser
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ fatal: String(err && err.stack) }) + "\n");
  process.exit(1);
});
