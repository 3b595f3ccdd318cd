// The benchmark app on Node's socket.io 4.8 (see bench/servers/__init__.py for the app).
//
// Usage: node server.js [--port N]   (default 0: a free port; always on 127.0.0.1)
// Prints "listening on 127.0.0.1:PORT" once it accepts connections.
// Options are socket.io's defaults (no permessage-deflate, pingInterval 25 s).
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

const HOST = "127.0.0.1";
const MAX_COUNT = 100000; // the same cap as bench/servers/__init__.py

function parsePort(argv) {
  let port = 0;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--port") port = Number(argv[++i]);
    else throw new Error(`unknown argument ${JSON.stringify(argv[i])}`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error("bad port");
  return port;
}

const httpServer = http.createServer();
const io = new Server(httpServer, { serveClient: false });

io.on("connection", (socket) => {
  socket.on("echo", (...args) => {
    socket.emit("echo", ...args);
  });
  socket.on("ack", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });
  socket.on("async_ack", async (...args) => {
    const ack = args.pop();
    await null;
    if (typeof ack === "function") ack(...args);
  });
  socket.on("broadcast", (count, payload, ack) => {
    const n = Math.min(Number(count) | 0, MAX_COUNT);
    for (let i = 0; i < n; i++) io.emit("tick", i, payload);
    if (typeof ack === "function") ack(n);
  });
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack(room);
  });
  socket.on("room_broadcast", (room, count, payload, ack) => {
    const n = Math.min(Number(count) | 0, MAX_COUNT);
    for (let i = 0; i < n; i++) io.to(room).emit("tick", i, payload);
    if (typeof ack === "function") ack(n);
  });
});

httpServer.listen(parsePort(process.argv.slice(2)), HOST, 4096, () => {
  const { address, port } = httpServer.address();
  console.log(`listening on ${address}:${port}`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    io.close();
    process.exit(0);
  });
}
