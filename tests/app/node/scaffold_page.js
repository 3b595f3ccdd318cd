// The page `thinkio new` writes (www/index.html), in headless Chromium.
//
//   node scaffold_page.js URL NAME
//
// Opens URL, waits for the page's log to show the server's `opend` and `joined`, types NAME
// and clicks addUser. Prints one JSON line, {"ok": true, "log": "..."} or {"ok": false,
// "error", "log"}; exits 0 only when every step passed. With NAME "-" it only waits for the
// log's first line (the test of a project without the browser client). Drives Debian's
// /usr/bin/chromium through playwright-core (which never downloads a browser); every wait is
// bounded.
'use strict';

const { chromium } = require('playwright-core');

const [url, name] = process.argv.slice(2);
if (!url || !name) {
  console.error('usage: node scaffold_page.js URL NAME|-');
  process.exit(64);
}
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT_MS = 10000;

let browser = null;
let page = null;

async function finish(result, code) {
  if (page && result.log === undefined) {
    result.log = await page.locator('#log').textContent({ timeout: 1000 }).catch(() => null);
  }
  if (browser) await browser.close().catch(() => {});
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(code);
}

setTimeout(() => finish({ ok: false, error: 'watchdog: over 40 s' }, 2), 40000);

async function main() {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 20000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage();
  await page.goto(url, { timeout: WAIT_MS });
  const log = page.locator('#log');
  if (name === '-') {
    await page.waitForFunction(() => document.getElementById('log').textContent !== '',
      null, { timeout: WAIT_MS });
    return finish({ ok: true, log: await log.textContent() }, 0);
  }
  await page.waitForFunction(
    () => /opend: .*\n(.|\n)*joined: /.test(document.getElementById('log').textContent),
    null, { timeout: WAIT_MS });
  await page.fill('.usernameInput', name);
  await page.click('.send');
  await page.waitForFunction(
    (n) => document.getElementById('log').textContent.includes('addUser: ' + n),
    name, { timeout: WAIT_MS });
  return finish({ ok: true, log: await log.textContent() }, 0);
}

main().catch((err) => finish({ ok: false, error: String(err && err.stack || err) }, 1));
