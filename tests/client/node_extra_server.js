// Extra Node socket.io app for thinkio's client tests: what the reference app
// (protocol/node_reference/server.js) does not do. Uses that folder's node_modules
// (the fixture sets NODE_PATH).
//
//   "/"         on "ask" (event, ...args): emits event to the client with an ack (2 s
//               timeout) and emits "answer" with every value of the reply, or
//               "answer-error" with the error message;
//               on "kick": disconnects this socket from the server side (41);
//               on "count" (n): emits "item" n times with 0..n-1, then "done".
//   "/private"  a middleware that refuses unless auth.token === "secret", with
//               err.data = {code: 42}.
// maxHttpBufferSize is 1000 bytes, so polling clients must split their POST payloads.
// Usage: node node_extra_server.js PORT   (prints "listening on 127.0.0.1:PORT")
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

const port = Number(process.argv[2] || 0);
const httpServer = http.createServer();
const io = new Server(httpServer, {
  pingInterval: 300,
  pingTimeout: 200,
  maxHttpBufferSize: 1000,
  serveClient: false,
});

io.on("connection", (socket) => {
  socket.on("ask", (event, ...args) => {
    socket.timeout(2000).emit(event, ...args, (err, ...reply) => {
      if (err) socket.emit("answer-error", String(err.message));
      else socket.emit("answer", ...reply);
    });
  });
  socket.on("kick", () => socket.disconnect());
  socket.on("count", (n) => {
    for (let i = 0; i < n; i++) socket.emit("item", i);
    socket.emit("done");
  });
});

io.of("/private").use((socket, next) => {
  if (socket.handshake.auth && socket.handshake.auth.token === "secret") return next();
  const err = new Error("not authorized");
  err.data = { code: 42 };
  next(err);
});
io.of("/private").on("connection", (socket) => socket.emit("welcome"));

httpServer.listen(port, "127.0.0.1", () => {
  process.stdout.write(`listening on 127.0.0.1:${httpServer.address().port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
