#!/usr/bin/env node
// Headless Chromium (Debian's, via playwright-core) opening pages of thinkio's plain types.
//
//   node browser.js URL...
//
// Opens each URL in a fresh page, waits (bounded) until the page sets window.done, and prints
// one JSON line: {"results": [window.result of each page]} (or {"error": ...}).
'use strict';

const { chromium } = require('playwright-core');

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: FLAGS,
    timeout: 30000,
  });
  try {
    const results = [];
    for (const url of process.argv.slice(2)) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(url);
      await page.waitForFunction(() => window.done === true, null, { timeout: 15000 });
      results.push(await page.evaluate(() => window.result));
      await context.close();
    }
    process.stdout.write(JSON.stringify({ results }) + '\n');
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: String((err && err.stack) || err) }) + '\n');
  process.exit(1);
});
