// The chat example in headless Chromium: two people talk through the page.
//
//   node chat_browser.js URL TRANSPORT SHOT_DIR
//
// URL is the running app (http://127.0.0.1:PORT), TRANSPORT is "websocket" or "polling" (the
// page gets ?transports=TRANSPORT) or "default" (no query: the page starts with polling and
// must upgrade to WebSocket), SHOT_DIR is where the screenshots go. Drives Debian's
// /usr/bin/chromium through playwright-core (which never downloads a browser). Prints one JSON
// line: {"ok": true, "steps": [...], "screenshots": [...]} or {"ok": false, "step", "error",
// "pages"}; exits 0 only when every step passed. Every wait is bounded.
'use strict';

const path = require('path');
const { chromium } = require('playwright-core');

const [url, transport, shotDir] = process.argv.slice(2);
if (!url || !['websocket', 'polling', 'default'].includes(transport) || !shotDir) {
  console.error('usage: node chat_browser.js URL websocket|polling|default SHOT_DIR');
  process.exit(64);
}
// What the page's transport badge must show once connected.
const expected = transport === 'default' ? 'websocket' : transport;
const query = transport === 'default' ? '' : `?transports=${transport}`;

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT_MS = 5000; // any one wait
const WATCHDOG_MS = 45000; // the whole run
// The sender says it stopped typing after 1 s without a keystroke (www/main.js).
const TYPING_IDLE_MS = 1000;
// Something that must stay text: a message the page would mangle if it used innerHTML.
const TRICKY = 'Hi Bob <b>bold?</b> <img src=x onerror="window.pwned=1"> & "quotes"';

const steps = [];
const screenshots = [];
let browser = null;
const pages = {};
let current = 'launch';

function step(name) {
  current = name;
  steps.push(name);
}

async function finish(result, code) {
  try {
    if (browser) await browser.close();
  } catch (_) {
    // already gone
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(code);
}

const watchdog = setTimeout(() => {
  finish({ ok: false, step: current, error: `watchdog: over ${WATCHDOG_MS} ms`, steps }, 2);
}, WATCHDOG_MS);

// -- page helpers ------------------------------------------------------------------------

const text = (page, sel) => page.locator(sel).textContent({ timeout: WAIT_MS });

// Wait until the element's text satisfies `test` (a substring, or '' for empty).
async function waitText(page, sel, expected, { exact = false } = {}) {
  await page.waitForFunction(
    ([sel, expected, exact]) => {
      const el = document.querySelector(sel);
      if (!el) return false;
      const t = el.textContent.trim();
      return exact || expected === '' ? t === expected : t.includes(expected);
    },
    [sel, expected, exact],
    { timeout: WAIT_MS, polling: 50 }
  );
}

async function waitNotice(page, expected) {
  await page.waitForFunction(
    (expected) =>
      [...document.querySelectorAll('#messages .notice')].some((li) =>
        li.textContent.includes(expected)
      ),
    expected,
    { timeout: WAIT_MS, polling: 50 }
  );
}

// The messages of the list, as {who, text, mine}.
const messagesOf = (page) =>
  page.$$eval('#messages .message', (lis) =>
    lis.map((li) => ({
      who: li.querySelector('.who').textContent,
      text: li.querySelector('.text').textContent,
      mine: li.classList.contains('mine'),
    }))
  );

async function open(name) {
  const context = await browser.newContext({ viewport: { width: 760, height: 620 } });
  context.setDefaultTimeout(WAIT_MS);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[${name}] page error: ${err.message}`));
  await page.goto(`${url}/${query}`, { timeout: WAIT_MS });
  // The badge shows the transport of the connection (after the upgrade, by default).
  await page.waitForSelector(`#transport[data-transport="${expected}"]`, { timeout: WAIT_MS });
  pages[name] = page;
  return page;
}

async function join(page, name) {
  await page.fill('#name', name);
  await page.press('#name', 'Enter');
  await page.waitForSelector('#chat:not([hidden])', { timeout: WAIT_MS });
  await page.waitForSelector('#participants:not([hidden])', { timeout: WAIT_MS });
}

async function shot(page, name) {
  const file = path.join(shotDir, `chat-${transport}-${name}.png`);
  await page.screenshot({ path: file, timeout: WAIT_MS });
  screenshots.push(file);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// -- the scenario ------------------------------------------------------------------------

async function main() {
  step('launch chromium');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 20000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });

  step('Alice opens the page');
  const alice = await open('Alice');
  check((await text(alice, '#login label')).includes('name'), 'no name prompt');
  await shot(alice, 'login');

  step('Alice joins: first one here');
  await join(alice, 'Alice');
  await waitText(alice, '#participants', '1 participant', { exact: true });
  await waitNotice(alice, 'Welcome');
  await waitNotice(alice, 'You are the first one here');

  step('Bob opens the page and joins');
  const bob = await open('Bob');
  await join(bob, 'Bob');
  await waitText(bob, '#participants', '2 participants', { exact: true });
  // Bob learns who was already here; Alice sees him arrive.
  await waitNotice(bob, 'Alice is here');

  step('Alice sees Bob join and the count');
  await waitNotice(alice, 'Bob joined');
  await waitText(alice, '#participants', '2 participants', { exact: true });

  step('Alice types: Bob sees it');
  await alice.locator('#message').pressSequentially('Hel', { delay: 30 });
  await waitText(bob, '#typing', 'Alice is typing');

  step('Alice pauses: the notice goes away after ~1 s');
  const paused = Date.now();
  await waitText(bob, '#typing', '');
  const gone = Date.now() - paused;
  check(gone >= TYPING_IDLE_MS - 300, `typing notice went away after ${gone} ms only`);

  step('Alice types again, then sends: Bob gets the message and the notice goes');
  await alice.locator('#message').fill('');
  await alice.locator('#message').pressSequentially('Hi', { delay: 30 });
  await waitText(bob, '#typing', 'Alice is typing');
  await alice.fill('#message', TRICKY);
  await alice.press('#message', 'Enter');
  await bob.waitForFunction(
    (t) => [...document.querySelectorAll('#messages .message .text')].some((e) => e.textContent === t),
    TRICKY,
    { timeout: WAIT_MS, polling: 50 }
  );
  await waitText(bob, '#typing', '');

  step('the message is text, not HTML');
  const bobSees = await messagesOf(bob);
  check(
    bobSees.length === 1 && bobSees[0].who === 'Alice' && bobSees[0].text === TRICKY && !bobSees[0].mine,
    `Bob's messages: ${JSON.stringify(bobSees)}`
  );
  for (const page of [alice, bob]) {
    const injected = await page.evaluate(
      () => document.querySelectorAll('#messages b, #messages img').length + (window.pwned ? 1 : 0)
    );
    check(injected === 0, 'user text was parsed as HTML');
  }

  step('Bob answers: Alice gets it, nobody gets their own message back');
  await bob.fill('#message', 'Hello Alice!');
  await bob.press('#message', 'Enter');
  await alice.waitForFunction(
    () => [...document.querySelectorAll('#messages .message .text')].some((e) => e.textContent === 'Hello Alice!'),
    null,
    { timeout: WAIT_MS, polling: 50 }
  );
  const aliceSees = await messagesOf(alice);
  check(
    JSON.stringify(aliceSees) ===
      JSON.stringify([
        { who: 'Alice', text: TRICKY, mine: true },
        { who: 'Bob', text: 'Hello Alice!', mine: false },
      ]),
    `Alice's messages: ${JSON.stringify(aliceSees)}`
  );
  const bobNow = await messagesOf(bob);
  check(bobNow.length === 2 && bobNow[1].mine, `Bob's messages: ${JSON.stringify(bobNow)}`);

  step('screenshots');
  await shot(alice, 'alice');
  await bob.locator('#message').pressSequentially('typing…', { delay: 10 });
  await waitText(alice, '#typing', 'Bob is typing');
  await shot(alice, 'alice-typing');
  await shot(bob, 'bob');

  step('Bob closes his page: Alice sees him leave and the count drop');
  await bob.context().close();
  await waitNotice(alice, 'Bob left');
  await waitText(alice, '#participants', '1 participant', { exact: true });
  await waitText(alice, '#typing', ''); // he was typing when he left

  step('the transport never changed');
  check(
    (await alice.getAttribute('#transport', 'data-transport')) === expected,
    `Alice's page shows ${await alice.getAttribute('#transport', 'data-transport')}`
  );
  await shot(alice, 'alice-alone');
}

main().then(
  () => {
    clearTimeout(watchdog);
    return finish({ ok: true, transport, steps, screenshots }, 0);
  },
  async (err) => {
    clearTimeout(watchdog);
    const state = {};
    for (const [name, page] of Object.entries(pages)) {
      try {
        state[name] = await page.evaluate(() => ({
          transport: document.getElementById('transport').textContent,
          participants: document.getElementById('participants').textContent,
          typing: document.getElementById('typing').textContent,
          messages: [...document.querySelectorAll('#messages li')].map((li) => li.textContent),
        }));
      } catch (_) {
        state[name] = 'closed';
      }
    }
    return finish({ ok: false, step: current, error: String(err && err.stack || err), pages: state, steps }, 1);
  }
);
