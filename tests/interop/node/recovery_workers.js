// Connection state recovery across `thinkio run --workers N` (tests/cluster/test_recovery.py),
// with the real socket.io-client 4.8.
//
// node recovery_workers.js URL TRANSPORT COUNT SOURCES CUT_EVERY CUTS
//
// Connects (only TRANSPORT) and asks the server to start ticking: every one of the SOURCES
// workers then emits "tick" (its pid, n) for n = 1..COUNT, each with the offset the server
// appends. After every CUT_EVERY ticks (CUTS times) the client cuts its transport as
// recovery.js does (over WebSocket: the TCP socket destroyed; over polling: the Engine.IO
// session closed); it reconnects by itself, with a new handshake, which the cluster deals to
// the next worker in turn. At each connect it asks `whoami` (the worker's pid, rooms, data).
// Once it has tick COUNT of every source it prints one JSON line and exits.
"use strict";

const { io } = require("socket.io-client");

const [url, transport] = [process.argv[2], process.argv[3]];
const [count, sources, cutEvery, cuts] = process.argv.slice(4, 8).map(Number);

const socket = io(url, {
  transports: [transport],
  reconnectionDelay: 50,
  reconnectionDelayMax: 100,
  randomizationFactor: 0,
});

const ticks = [];
const others = [];
const connects = [];
const finished = new Set();
let cutsDone = 0;
let cutting = false;
let reported = false;

function report(extra) {
  if (reported) return;
  reported = true;
  console.log(JSON.stringify({ ticks, others, connects, id: socket.id, ...extra }));
}

setTimeout(() => {
  report({ error: "timed out" });
  process.exit(1);
}, 40000).unref();

socket.on("connect", () => {
  cutting = false;
  const entry = { id: socket.id, recovered: socket.recovered };
  connects.push(entry);
  socket.emit("whoami", (info) => {
    entry.info = info;
  });
  if (connects.length === 1) socket.emit("start", count);
});

socket.on("connect_error", (err) => {
  if (connects.length === 0) {
    report({ error: `connect_error: ${err.message}` });
    process.exit(1);
  }
});

socket.on("other", (pid, n) => others.push([pid, n]));

socket.on("tick", (pid, n, offset) => {
  if (typeof offset !== "string") {
    report({ error: `tick ${n} of ${pid} came without an offset` });
    process.exit(1);
  }
  ticks.push([pid, n]);
  if (n === count) finished.add(pid);
  if (!cutting && cutsDone < cuts && ticks.length >= cutEvery * (cutsDone + 1)) {
    cutting = true;
    cutsDone += 1;
    // After this tick's handler, as a network drop would (see recovery.js).
    setImmediate(() => {
      const engine = socket.io.engine;
      if (engine.transport.name === "websocket") engine.transport.ws._socket.destroy();
      else engine.close();
    });
  }
  if (finished.size >= sources) {
    socket.emit("whoami", (info) => {
      report({ info });
      socket.disconnect();
      process.exit(0);
    });
  }
});
