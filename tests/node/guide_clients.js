// The ThinkJS WebSocket guide's client side, with the real socket.io-client, for
// tests/app/test_guide_node.py. Prints one JSON line per event a client receives:
//   {"client": "A", "event": "opend", "args": ["This client opened successfully!"]}
//
// 1. client A connects; it gets "opend" (from the open action) and "joined" (the broadcast
//    reaches the sender too);
// 2. then client B connects: B gets "opend" and "joined", and A gets "joined" again;
// 3. B emits addUser("thinkio-user"); the server's action logs it;
// 4. both disconnect; prints {"done": true}.
//
// Usage: node guide_clients.js URL [v4|v2]   (v2: socket.io-client 2.x, the guide's own client)
// Exits 1 with {"error": ...} if anything takes more than 15 seconds.
"use strict";

const url = process.argv[2];
const flavour = process.argv[3] || "v4";
const io = require(flavour === "v2" ? "socket.io-client-v2" : "socket.io-client");

const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const fail = (error) => {
  say({ error: String(error) });
  process.exit(1);
};
const timer = setTimeout(() => fail("timed out"), 15000);

function connect(name) {
  const socket = io(url, { forceNew: true, reconnection: false });
  const seen = [];
  const waiters = [];
  for (const event of ["opend", "joined"]) {
    socket.on(event, (...args) => {
      say({ client: name, event, args });
      seen.push(event);
      waiters.splice(0).forEach((w) => w());
    });
  }
  socket.on("connect_error", (err) => fail(`${name}: connect_error ${err.message}`));
  // Resolves once `event` has been received `count` times in all.
  socket.waitFor = (event, count) =>
    new Promise((resolve) => {
      const check = () =>
        seen.filter((e) => e === event).length >= count ? resolve() : waiters.push(check);
      check();
    });
  return socket;
}

(async () => {
  const a = connect("A");
  await Promise.all([a.waitFor("opend", 1), a.waitFor("joined", 1)]);
  const b = connect("B");
  await Promise.all([b.waitFor("opend", 1), b.waitFor("joined", 1), a.waitFor("joined", 2)]);
  b.emit("addUser", "thinkio-user");
  // No ack in the guide: give the packet time to go out before closing.
  await new Promise((resolve) => setTimeout(resolve, 300));
  a.close();
  b.close();
  clearTimeout(timer);
  say({ done: true });
})().catch(fail);
