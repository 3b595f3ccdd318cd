// Connection state recovery with the real socket.io-client 4.8 (tests/server/test_recovery.py).
//
// node recovery.js URL TRANSPORT CUT_AFTER LAST [HOW [PARSER]]
//
// Connects (only TRANSPORT), asks the server to start ticking, and records every "tick" (its
// number; the offset the server appends is the last argument). After CUT_AFTER ticks it cuts
// its transport: over WebSocket it destroys the TCP socket under it (a network drop: the
// server sees the connection go, no close packet); over polling it closes the Engine.IO
// session (what socket.io's own recovery test does: the server sees "transport close").
// The client reconnects by itself; once it has tick LAST it asks the server to stop and
// prints one JSON line: the ticks, the ids, `recovered` at each connect, and what the
// server says of the socket (`whoami`: rooms and data).
//
// HOW "disconnect" instead disconnects on purpose (`socket.disconnect()`, then
// `socket.connect()`), which the server must not treat as recoverable; and with HOW
// "cut-once" or "disconnect" the client reports as soon as it is connected again. With HOW
// "none" the client never cuts: the test stops the server under it and starts another.
// PARSER "msgpack" uses npm socket.io-msgpack-parser (the server must have parser="msgpack").
"use strict";

const { io } = require("socket.io-client");

const [url, transport, cutAfter, last, how, parser] = [
  process.argv[2],
  process.argv[3],
  Number(process.argv[4]),
  Number(process.argv[5]),
  process.argv[6] || "cut",
  process.argv[7] || "default",
];

const options = {};
if (parser === "msgpack") {
  // npm socket.io-msgpack-parser, installed in tests/interop/msgpack
  options.parser = require("../msgpack/node_modules/socket.io-msgpack-parser");
}

const socket = io(url, {
  ...options,
  transports: [transport],
  reconnectionDelay: 50,
  reconnectionDelayMax: 100,
  randomizationFactor: 0,
  auth: { token: "t0k" },
});

const ticks = [];
const others = [];
const connects = [];
let cut = false;
let finished = false;

function fail(message) {
  console.log(JSON.stringify({ error: message, ticks, connects }));
  process.exit(1);
}

setTimeout(() => fail("timed out"), 30000).unref();

socket.on("connect", () => {
  connects.push({ id: socket.id, recovered: socket.recovered, transport: socket.io.engine.transport.name });
  if (connects.length === 1) socket.emit("start");
  if (connects.length === 2 && (how === "cut-once" || how === "disconnect")) {
    socket.emit("whoami", (info) => {
      console.log(JSON.stringify({ ticks, others, connects, info, id: socket.id }));
      socket.disconnect();
      process.exit(0);
    });
  }
});

socket.on("connect_error", (err) => {
  // (while the server is restarted, the reconnection attempts fail: the client retries)
  if (connects.length === 0) fail(`connect_error: ${err.message}`);
});

socket.on("other", (n) => others.push(n));

socket.on("tick", (n, offset) => {
  if (typeof offset !== "string") fail(`tick ${n} came without an offset`);
  ticks.push(n);
  if (how !== "none" && !cut && ticks.length >= cutAfter) {
    cut = true;
    // After this tick's handler, as a network drop would: not in the middle of a polling
    // payload (whose remaining packets the client would keep in its receive buffer while
    // disconnected, and emit at the next connect along with the same packets replayed).
    setImmediate(() => {
      const engine = socket.io.engine;
      if (how === "disconnect") {
        socket.disconnect();
        socket.connect();
      } else if (engine.transport.name === "websocket") {
        engine.transport.ws._socket.destroy();
      } else {
        engine.close();
      }
    });
  }
  if ((how === "cut" || how === "none") && n >= last && !finished) {
    finished = true;
    socket.emit("stop", () => {
      socket.emit("whoami", (info) => {
        console.log(JSON.stringify({ ticks, others, connects, info, id: socket.id }));
        socket.disconnect();
        process.exit(0);
      });
    });
  }
});
