// The benchmark's load generator: socket.io-client 4.8 against any of the servers.
//
// Usage: node load.js '<json config>'
//
// Config (every count and every wait is bounded):
//   url         "http://127.0.0.1:PORT" (only loopback addresses are accepted)
//   scenario    "ack" | "broadcast" | "room" | "storm"
//   transport   "websocket" | "polling"             (ack only; the others use websocket)
//   clients     sockets to connect (ack, broadcast, room, storm)
//   rounds      ack: most round trips per client
//   count       broadcast/room: broadcasts the server sends in the measured burst
//   warmup      broadcast/room: broadcasts in the unmeasured warm-up burst; ack: round trips
//               per client before measuring
//   rooms       room: clients are spread over this many rooms; the burst goes to one of them
//   size        payload size in characters
//   window      connections in flight at once while connecting
//   duration    seconds the measured phase may last at most (results are partial after it)
//   setup       seconds connecting (and warming up) may last at most
//
// Talks to bench/run.py over stdio, one JSON object per line on stdout:
//   {"event":"ready"}           set up; waiting for "go" on stdin (the server's CPU is sampled)
//   {"event":"result", ...}     the measured phase is over (sampled again), figures attached
//   {"event":"error","message"} something failed; the process exits non-zero
// then closes every socket and exits.
"use strict";

const http = require("node:http");
const readline = require("node:readline");
const { io } = require("socket.io-client");

const now = () => performance.now(); // milliseconds, monotonic

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function fail(message) {
  emit({ event: "error", message: String(message) });
  process.exit(2);
}

const DEFAULTS = {
  transport: "websocket",
  clients: 10,
  rounds: 1000,
  count: 100,
  warmup: 10,
  rooms: 10,
  size: 16,
  window: 50,
  duration: 20,
  setup: 60,
};

function parseConfig(argv) {
  if (argv.length !== 1) fail("usage: node load.js '<json config>'");
  const cfg = { ...DEFAULTS, ...JSON.parse(argv[0]) };
  const url = new URL(cfg.url);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
    fail(`refusing a non-loopback target: ${url.hostname}`);
  }
  for (const key of ["clients", "rounds", "count", "warmup", "rooms", "size", "window"]) {
    if (!Number.isInteger(cfg[key]) || cfg[key] < 0) fail(`${key}: expected an integer >= 0`);
  }
  for (const key of ["duration", "setup"]) {
    if (!(cfg[key] > 0 && cfg[key] <= 600)) fail(`${key}: expected seconds in (0, 600]`);
  }
  return cfg;
}

const cfg = parseConfig(process.argv.slice(2));
const payload = "x".repeat(cfg.size);
const sockets = [];

// A hard stop whatever happens: setup + measured phase + teardown.
setTimeout(() => fail("hard timeout"), (cfg.setup + cfg.duration + 15) * 1000);

function connectOne(transport) {
  const opts = {
    forceNew: true,
    reconnection: false,
    transports: [transport],
    perMessageDeflate: false,
    timeout: 10000,
  };
  if (transport === "polling") {
    // One keep-alive agent per client, as a browser would (xmlhttprequest-ssl otherwise
    // opens a fresh connection per request): one socket for the pending GET, one for POSTs.
    opts.agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  }
  const socket = io(cfg.url, opts);
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => reject(err));
  });
}

// Connect `n` clients with at most `window` handshakes in flight; stops at `deadline`.
// Returns {connected: [...sockets in index order or undefined], errors, elapsedMs}.
async function connectMany(n, transport, window, deadline, onConnect) {
  const connected = new Array(n);
  let next = 0;
  let errors = 0;
  let lastError = "";
  const start = now();
  async function worker() {
    while (next < n && now() < deadline) {
      const index = next++;
      try {
        connected[index] = await connectOne(transport);
        if (onConnect) onConnect(index, connected[index]);
      } catch (err) {
        errors++;
        lastError = String(err && err.message ? err.message : err);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(window, n)) }, worker));
  return { connected, errors, lastError, elapsedMs: now() - start };
}

async function connectAll(n, transport) {
  const res = await connectMany(n, transport, cfg.window, now() + cfg.setup * 1000);
  const ok = res.connected.filter(Boolean).length;
  if (ok !== n) fail(`connected ${ok}/${n} clients (${res.errors} errors: ${res.lastError})`);
  return res.connected;
}

function waitForGo() {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin });
    rl.on("line", (line) => {
      if (line.trim() === "go") {
        rl.close();
        resolve();
      }
    });
    rl.on("close", resolve);
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

// Sequential emitWithAck("echo") round trips on every client.
async function ackScenario() {
  const clients = await connectAll(cfg.clients, cfg.transport);
  const setupDeadline = now() + cfg.setup * 1000;
  await Promise.all(
    clients.map(async (socket) => {
      for (let i = 0; i < cfg.warmup && now() < setupDeadline; i++) {
        await socket.timeout(10000).emitWithAck("echo", i, payload);
      }
    }),
  );
  emit({ event: "ready" });
  await waitForGo();
  const latencies = [];
  let errors = 0;
  const cpu0 = process.cpuUsage();
  const start = now();
  const end = start + cfg.duration * 1000;
  await Promise.all(
    clients.map(async (socket) => {
      for (let i = 0; i < cfg.rounds && now() < end; i++) {
        const t0 = now();
        try {
          const reply = await socket.timeout(10000).emitWithAck("echo", i, payload);
          if (reply !== i) throw new Error(`bad ack ${reply}`);
        } catch (err) {
          errors++;
          return;
        }
        latencies.push(now() - t0);
      }
    }),
  );
  const elapsedMs = now() - start;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  return {
    rounds: latencies.length,
    expected: cfg.clients * cfg.rounds,
    errors,
    elapsed_s: elapsedMs / 1000,
    rps: latencies.length / (elapsedMs / 1000),
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    client_cpu_s: (cpu.user + cpu.system) / 1e6,
  };
}

// Every `tick` counts on its socket; `done` resolves once each target socket has `target`.
function makeCounter(clients, targets) {
  const counts = new Int32Array(clients.length);
  const state = { target: 0, remaining: 0, first: null, last: null, resolve: null };
  clients.forEach((socket, index) => {
    socket.on("tick", () => {
      const c = ++counts[index];
      const t = now();
      if (state.first === null) state.first = t;
      if (c === state.target) {
        state.last = t;
        if (--state.remaining === 0 && state.resolve) state.resolve();
      }
    });
  });
  return {
    counts,
    state,
    arm(target) {
      counts.fill(0);
      state.target = target;
      state.remaining = targets.length;
      state.first = null;
      state.last = null;
      return new Promise((resolve) => {
        state.resolve = resolve;
      });
    },
    delivered() {
      let sum = 0;
      for (const i of targets) sum += Math.min(counts[i], state.target);
      return sum;
    },
  };
}

function within(promise, ms) {
  let timer;
  return Promise.race([
    promise.then(() => true),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// One client asks the server for a burst of broadcasts (to all, or to one room); every
// target client counts them. Measured: from the request to the last tick of the last client.
async function fanOutScenario(room) {
  const clients = await connectAll(cfg.clients, "websocket");
  let targets = clients.map((_, i) => i);
  if (room) {
    await Promise.all(
      clients.map((socket, i) => socket.timeout(10000).emitWithAck("join", `room-${i % cfg.rooms}`)),
    );
    targets = targets.filter((i) => i % cfg.rooms === 0);
  }
  const trigger = clients[0];
  const request = (count) =>
    room
      ? trigger.emit("room_broadcast", "room-0", count, payload)
      : trigger.emit("broadcast", count, payload);
  const counter = makeCounter(clients, targets);
  if (cfg.warmup > 0) {
    const warm = counter.arm(cfg.warmup);
    request(cfg.warmup);
    if (!(await within(warm, cfg.setup * 1000))) fail("warm-up burst did not arrive");
  }
  const done = counter.arm(cfg.count);
  emit({ event: "ready" });
  await waitForGo();
  const cpu0 = process.cpuUsage();
  const start = now();
  request(cfg.count);
  const complete = await within(done, cfg.duration * 1000);
  const end = complete ? counter.state.last : now();
  const cpu = process.cpuUsage(cpu0);
  const delivered = counter.delivered();
  const elapsedMs = end - start;
  return {
    recipients: targets.length,
    delivered,
    expected: targets.length * cfg.count,
    complete,
    elapsed_s: elapsedMs / 1000,
    msgs_per_s: delivered / (elapsedMs / 1000),
    first_ms: counter.state.first === null ? null : counter.state.first - start,
    last_ms: complete ? elapsedMs : null,
    client_cpu_s: (cpu.user + cpu.system) / 1e6,
  };
}

// `clients` WebSocket connections (handshake + namespace connect), `window` at a time.
async function stormScenario() {
  emit({ event: "ready" });
  await waitForGo();
  const cpu0 = process.cpuUsage();
  const res = await connectMany(cfg.clients, "websocket", cfg.window, now() + cfg.duration * 1000);
  const cpu = process.cpuUsage(cpu0);
  const connected = res.connected.filter(Boolean).length;
  return {
    connected,
    expected: cfg.clients,
    errors: res.errors,
    last_error: res.lastError || null,
    elapsed_s: res.elapsedMs / 1000,
    cps: connected / (res.elapsedMs / 1000),
    client_cpu_s: (cpu.user + cpu.system) / 1e6,
  };
}

async function main() {
  let result;
  if (cfg.scenario === "ack") result = await ackScenario();
  else if (cfg.scenario === "broadcast") result = await fanOutScenario(false);
  else if (cfg.scenario === "room") result = await fanOutScenario(true);
  else if (cfg.scenario === "storm") result = await stormScenario();
  else fail(`unknown scenario ${JSON.stringify(cfg.scenario)}`);
  emit({ event: "result", scenario: cfg.scenario, ...result });
  for (const socket of sockets) socket.disconnect();
  // Let the close frames go out, then leave (sockets may still hold timers).
  setTimeout(() => process.exit(0), 200);
}

main().catch((err) => fail(err && err.stack ? err.stack : err));
