// The chat example's server rules, checked with the real Node socket.io-client 4.x.
//
//   node chat_rules.js URL [TRANSPORTS]      (TRANSPORTS: "polling,websocket" by default)
//
// Five clients: Alice and Bob chat, Carol never picks a name, Dave is refused names, Eve
// takes the name Bob left. Every event each client gets is recorded; at the end the records
// must be exactly what the rules say (counts, who is told, no echo to the sender). Prints one
// JSON line {"ok": true|false, ...}; exits 0 only when everything matched. Every wait is
// bounded.
'use strict';

const { io } = require('socket.io-client');

const [url, transportsArg] = process.argv.slice(2);
if (!url) {
  console.error('usage: node chat_rules.js URL [polling,websocket]');
  process.exit(64);
}
const transports = (transportsArg || 'polling,websocket').split(',');
const WAIT_MS = 5000;
const SETTLE_MS = 300; // quiet time before the final comparison: late extra events show up
const clients = {};
let current = 'start';

const watchdog = setTimeout(() => finish({ ok: false, step: current, error: 'watchdog' }, 2), 30000);

function finish(result, code) {
  clearTimeout(watchdog);
  for (const c of Object.values(clients)) c.socket.close();
  const logs = {};
  for (const [name, c] of Object.entries(clients)) logs[name] = c.log;
  process.stdout.write(JSON.stringify({ ...result, transports, logs }) + '\n');
  process.exit(code);
}

function connect(name) {
  const socket = io(url, { transports, reconnection: false, forceNew: true, timeout: WAIT_MS });
  const client = { socket, log: [], waiters: [] };
  socket.onAny((event, ...args) => {
    client.log.push([event, ...args]);
    client.waiters = client.waiters.filter((w) => !w());
  });
  clients[name] = client;
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(client));
    socket.once('connect_error', reject);
  });
}

// Resolves when `client` has an event [event, data] deep-equal to the given one.
function received(client, event, data) {
  const want = JSON.stringify([event, data]);
  const has = () => client.log.some((entry) => JSON.stringify(entry) === want);
  return new Promise((resolve, reject) => {
    if (has()) return resolve();
    const timer = setTimeout(() => reject(new Error(`no ${want} within ${WAIT_MS} ms`)), WAIT_MS);
    client.waiters.push(() => has() && (clearTimeout(timer), resolve(), true));
  });
}

// Emit and wait for the server to have run the action (the action's return value is the ack).
const call = (client, event, ...args) => client.socket.timeout(WAIT_MS).emitWithAck(event, ...args);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function step(name) {
  current = name;
}

async function main() {
  step('Alice and Carol connect; Alice picks a name');
  const alice = await connect('alice');
  const carol = await connect('carol'); // never picks a name
  await call(alice, 'addUser', '  Alice ');
  await received(alice, 'login', { username: 'Alice', numUsers: 1, users: [] });

  step('Bob joins: he is told who is here, Alice is told he came');
  const bob = await connect('bob');
  await call(bob, 'addUser', 'Bob');
  await received(bob, 'login', { username: 'Bob', numUsers: 2, users: ['Alice'] });
  await received(alice, 'userJoined', { username: 'Bob', numUsers: 2 });

  step('a second addUser from Bob changes nothing');
  await call(bob, 'addUser', 'Robert');

  step('Dave is refused: taken (any case), empty, too long, not a string');
  const dave = await connect('dave');
  for (const name of ['alice', '   ', 'x'.repeat(33), 42]) await call(dave, 'addUser', name);

  step('Carol, without a name, can neither chat nor type');
  await call(carol, 'newMessage', 'sneaky');
  await call(carol, 'typing');
  await call(carol, 'stopTyping');

  step('Alice writes: Bob gets it, Alice does not get it back');
  await call(alice, 'newMessage', 'hi <there>');
  await received(bob, 'newMessage', { username: 'Alice', message: 'hi <there>' });
  for (const bad of ['', '   ', 123, 'x'.repeat(2001)]) await call(alice, 'newMessage', bad);

  step('Alice types, then stops: Bob is told');
  await call(alice, 'typing');
  await received(bob, 'typing', { username: 'Alice' });
  await call(alice, 'stopTyping');
  await received(bob, 'stopTyping', { username: 'Alice' });

  step('Carol and Dave leave unannounced; Bob leaves: Alice alone again');
  carol.socket.disconnect();
  dave.socket.disconnect();
  await sleep(100);
  bob.socket.disconnect();
  await received(alice, 'userLeft', { username: 'Bob', numUsers: 1 });

  step('Eve takes the name Bob left; her connection then drops');
  const eve = await connect('eve');
  await call(eve, 'addUser', 'Bob');
  await received(eve, 'login', { username: 'Bob', numUsers: 2, users: ['Alice'] });
  await received(alice, 'userJoined', { username: 'Bob', numUsers: 2 });
  eve.socket.io.engine.close(); // the transport closes: no namespace DISCONNECT first
  await received(alice, 'userLeft', { username: 'Bob', numUsers: 1 });

  step('nothing else arrived');
  await sleep(SETTLE_MS);
  const refused = (message) => ['loginError', { message }];
  const expected = {
    alice: [
      ['login', { username: 'Alice', numUsers: 1, users: [] }],
      ['userJoined', { username: 'Bob', numUsers: 2 }],
      ['userLeft', { username: 'Bob', numUsers: 1 }],
      ['userJoined', { username: 'Bob', numUsers: 2 }],
      ['userLeft', { username: 'Bob', numUsers: 1 }],
    ],
    bob: [
      ['login', { username: 'Bob', numUsers: 2, users: ['Alice'] }],
      ['newMessage', { username: 'Alice', message: 'hi <there>' }],
      ['typing', { username: 'Alice' }],
      ['stopTyping', { username: 'Alice' }],
    ],
    carol: [],
    dave: [
      refused('alice is already taken here.'),
      refused('Pick a name of 1 to 32 characters.'),
      refused('Pick a name of 1 to 32 characters.'),
      refused('Pick a name of 1 to 32 characters.'),
    ],
    eve: [['login', { username: 'Bob', numUsers: 2, users: ['Alice'] }]],
  };
  const wrong = {};
  for (const [name, want] of Object.entries(expected)) {
    if (JSON.stringify(clients[name].log) !== JSON.stringify(want)) wrong[name] = want;
  }
  if (Object.keys(wrong).length) {
    return finish({ ok: false, step: current, error: 'unexpected events', expected: wrong }, 1);
  }
  finish({ ok: true }, 0);
}

main().catch((err) => finish({ ok: false, step: current, error: String(err && err.stack || err) }, 1));
