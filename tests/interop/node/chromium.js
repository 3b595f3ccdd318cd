#!/usr/bin/env node
/*
 * The Chromium side of the interop matrix: one headless Chromium (Debian's, never a
 * downloaded one) driven by playwright-core, reused for every run.
 *
 *   node chromium.js [--executable /usr/bin/chromium]
 *
 * Prints {"ready": true, "browser": VERSION} once the browser is up, then reads one JSON
 * command per line on stdin:
 *   {"id": ID, "url": "http://127.0.0.1:PORT", "mode": "websocket"|"polling"|"upgrade"|
 *    "blocked", "bundle": 4|2, "runId": TAG, "features": [...]}
 * and runs it in a fresh browser context: it opens /interop/page.html, which loads the
 * official browser bundle of socket.io-client 4.x (or 2.x) and runs ../features.js with
 * it, and prints each result line with "id" added,
 * then {"id": ID, "done": true}. EOF on stdin closes the browser and exits.
 *
 * "blocked" puts the page behind a WebSocket-hostile HTTP proxy (started here on a free
 * loopback port for that run): it forwards every plain HTTP request to the server and answers
 * every WebSocket upgrade with 403, as some corporate proxies do. The page is loaded through
 * the proxy, so the browser's own upgrade attempt really fails on the network, and the server
 * never sees a WebSocket request. The done line reports how many upgrades the proxy refused.
 */
"use strict";

const http = require("node:http");
const readline = require("node:readline");
const { parseArgs } = require("node:util");
const { chromium } = require("playwright-core");

const { values } = parseArgs({
  options: { executable: { type: "string", default: "/usr/bin/chromium" } },
});

const RUN_TIMEOUT_MS = 90000;
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

/* The WebSocket-hostile proxy in front of target ("http://127.0.0.1:PORT"). */
async function startBlockingProxy(target) {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true });
  const stats = { forwarded: 0, refusedUpgrades: 0 };
  const server = http.createServer((req, res) => {
    stats.forwarded += 1;
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (reply) => {
        res.writeHead(reply.statusCode, reply.headers);
        reply.pipe(res);
      }
    );
    forward.on("error", () => res.destroy());
    res.on("close", () => {
      if (!res.writableFinished) forward.destroy(); // the browser gave up: so does the proxy
    });
    req.pipe(forward);
  });
  server.on("upgrade", (req, socket) => {
    stats.refusedUpgrades += 1;
    socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: "http://127.0.0.1:" + server.address().port,
    stats,
    close() {
      server.closeAllConnections();
      server.close();
      agent.destroy();
    },
  };
}

async function run(context, cmd, proxy) {
  const page = await context.newPage();
  page.on("pageerror", (err) => out({ id: cmd.id, console: "pageerror: " + err.message }));
  page.on("console", (msg) => {
    if (msg.type() === "error") out({ id: cmd.id, console: msg.text() });
  });
  await page.exposeFunction("interopLog", (obj) => out({ id: cmd.id, ...obj }));
  await page.goto((proxy ? proxy.url : cmd.url) + "/interop/page.html", { timeout: 10000 });
  await page.evaluate((config) => window.startInterop(config), {
    bundle: cmd.bundle === 2 ? 2 : 4,
    mode: cmd.mode,
    runId: cmd.runId,
    features: cmd.features,
  });
}

async function main() {
  // launch() starts Chromium on a fresh temporary user-data-dir of its own (removed on
  // close); every run then gets a new, empty browser context.
  const browser = await chromium.launch({
    executablePath: values.executable,
    headless: true,
    args: FLAGS,
    timeout: 30000,
  });
  let closing = false;
  async function shutdown(code) {
    if (closing) return;
    closing = true;
    await browser.close().catch(() => {});
    process.exit(code);
  }
  process.on("SIGTERM", () => shutdown(0));
  out({ ready: true, browser: browser.version() });

  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const cmd = JSON.parse(line);
    const context = await browser.newContext();
    const proxy = cmd.mode === "blocked" ? await startBlockingProxy(cmd.url) : null;
    let timer;
    try {
      await Promise.race([
        run(context, cmd, proxy),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("run timed out")), RUN_TIMEOUT_MS);
        }),
      ]);
      out({ id: cmd.id, done: true, proxy: proxy && proxy.stats });
    } catch (err) {
      out({ id: cmd.id, done: true, error: String(err && err.message) });
    } finally {
      clearTimeout(timer);
      await context.close().catch(() => {});
      if (proxy) proxy.close(); // after the page is gone, so it sees no failed requests
    }
  }
  await shutdown(0);
}

main().catch((err) => {
  out({ fatal: String(err && err.stack) });
  process.exit(1);
});
