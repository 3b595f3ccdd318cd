#!/usr/bin/env node
/*
 * Drives the official Socket.IO Admin UI dashboard in headless Chromium (Debian's, through
 * playwright-core from tests/interop/node) and reports what it lists.
 *
 *   node dashboard.js --dashboard http://127.0.0.1:PORT/admin/ --server http://127.0.0.1:PORT
 *        --username admin --password s3cret --expect ID1,ID2 [--servers N] [--screenshot FILE]
 *
 * It opens the dashboard (served by thinkio), fills in its connection form (server URL,
 * username, password), waits until the Sockets page lists every id of --expect, takes the
 * screenshot, waits until the Servers page lists --servers servers (default 1; a cluster's
 * workers report each on its own clock), and prints one JSON line:
 * {"ok": true, "listed": [...], "servers": N}, or {"ok": false, "error": "..."} (exit status 1).
 *
 * The page's two stylesheets on CDNs never reach the network: the Material Design icons
 * come from this folder's node_modules (@mdi/font, so the screenshot has its icons), the
 * Roboto font request is refused (a system font stands in).
 */
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { parseArgs } = require("node:util");
const { chromium } = require(
  require.resolve("playwright-core", { paths: [path.join(__dirname, "..", "interop", "node")] })
);

const { values } = parseArgs({
  options: {
    dashboard: { type: "string" },
    server: { type: "string" },
    username: { type: "string", default: "" },
    password: { type: "string", default: "" },
    expect: { type: "string", default: "" },
    servers: { type: "string", default: "1" },
    screenshot: { type: "string" },
    executable: { type: "string", default: "/usr/bin/chromium" },
  },
});

const TIMEOUT_MS = 30000;
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
const MDI = path.join(__dirname, "node_modules", "@mdi", "font");

async function main() {
  // launch() gives Chromium a fresh temporary user-data-dir of its own, removed on close.
  const browser = await chromium.launch({
    executablePath: values.executable,
    headless: true,
    args: FLAGS,
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
    await context.route(/^https:\/\/cdn\.jsdelivr\.net\/npm\/@mdi\/font@[^/]+\/(.*)$/, (route) => {
      const file = path.join(MDI, new URL(route.request().url()).pathname.split("/").slice(4).join("/"));
      return fs.existsSync(file) ? route.fulfill({ path: file }) : route.abort();
    });
    await context.route(/^https:\/\/fonts\.googleapis\.com\//, (route) => route.abort());
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT_MS);
    await page.goto(values.dashboard);
    await page.getByLabel("Server URL").fill(values.server);
    await page.getByLabel("Username").fill(values.username);
    await page.getByLabel("Password").fill(values.password);
    await page.getByRole("button", { name: "Connect" }).click();
    await page.getByRole("dialog").waitFor({ state: "hidden" });
    await page.goto(new URL("#/sockets/", values.dashboard).href);
    const expected = values.expect ? values.expect.split(",") : [];
    for (const id of expected) {
      await page.getByText(id, { exact: true }).first().waitFor();
    }
    // Pages slide in and out (CSS transitions), so the page being left may still be in the
    // DOM: read once every animation has finished, and only the table the page is about (the
    // one listing an expected id; the one with a "Healthy" server).
    const settled = () =>
      page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => null))));
    await settled();
    const socketsTable = page.locator("main table", {
      has: page.getByText(expected[0] || "-", { exact: true }),
    });
    const listed = expected.length
      ? await socketsTable.locator("tbody tr td:first-child").allInnerTexts()
      : [];
    if (values.screenshot) {
      await page.screenshot({ path: values.screenshot, animations: "disabled" });
    }
    await page.goto(new URL("#/servers/", values.dashboard).href);
    // Without an argument: how many servers the page lists; with one: whether it lists that many.
    const serverRows = (want) => {
      const count = [...document.querySelectorAll("main table")]
        .filter((table) => table.textContent.includes("Healthy"))
        .reduce((n, table) => n + table.querySelectorAll("tbody tr").length, 0);
      return want === undefined ? count : count >= want;
    };
    await page.waitForFunction(serverRows, Number(values.servers));
    await settled();
    const servers = await page.evaluate(serverRows);
    process.stdout.write(JSON.stringify({ ok: true, listed, servers }) + "\n");
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ ok: false, error: String(err && err.stack || err) }) + "\n");
  process.exit(1);
});
