// Reference server for thinkio's protocol conformance suite (protocol/README.md).
//
// One HTTP server on 127.0.0.1 with three mounts, set up as PROTOCOL.md 5.2 describes:
//   /engine.io/   a bare engine.io Server that echoes every message, text as text and
//                 binary as binary (the engine.io-protocol test suite's server);
//   /socket.io/   socket.io: "/" emits "auth" on connection, answers "message" with
//                 "message-back" and acks "message-with-ack"; "/custom" emits "auth"
//                 (the socket.io-protocol test suite's server);
//   /restricted/  the same socket.io application, but only the origin
//                 http://allowed.example may open a session (used by the suite's origin tests).
// Every mount: pingInterval 300, pingTimeout 200, maxHttpBufferSize 1e6; socket.io mounts
// also connectTimeout 1000. "/socket.io/" and "/engine.io/" allow CORS from any origin.
//
// Usage: node server.js [--port N | N]   (or PORT=N; default 3000; 0 picks a free port)
// Prints "listening on 127.0.0.1:PORT" once it accepts connections.
"use strict";

const http = require("node:http");
const engineio = require("engine.io");
const { Server } = require("socket.io");

const HOST = "127.0.0.1";
const ALLOWED_ORIGIN = "http://allowed.example";

const TIMING = {
  pingInterval: 300,
  pingTimeout: 200,
  maxHttpBufferSize: 1e6,
};

function parsePort(argv, env) {
  let value = env.PORT;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--port") {
      value = argv[++i];
    } else if (argv[i].startsWith("--port=")) {
      value = argv[i].slice("--port=".length);
    } else if (/^\d+$/.test(argv[i])) {
      value = argv[i];
    } else {
      throw new Error(`unknown argument ${JSON.stringify(argv[i])}`);
    }
  }
  if (value === undefined) return 3000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`bad port ${JSON.stringify(value)}`);
  }
  return port;
}

// The socket.io application of PROTOCOL.md 5.2, points 1-6.
function setUpSocketIO(io) {
  io.on("connection", (socket) => {
    socket.emit("auth", socket.handshake.auth);
    socket.on("message", (...args) => {
      socket.emit("message-back", ...args);
    });
    socket.on("message-with-ack", (...args) => {
      const ack = args.pop();
      if (typeof ack === "function") ack(...args);
    });
  });
  io.of("/custom").on("connection", (socket) => {
    socket.emit("auth", socket.handshake.auth);
  });
  // Any other namespace is refused by socket.io itself: 44/<nsp>,{"message":"Invalid namespace"}.
}

function main() {
  const port = parsePort(process.argv.slice(2), process.env);
  const httpServer = http.createServer();

  // Requests outside the three mounts get a plain 404 (engine.io forwards them here).
  httpServer.on("request", (req, res) => {
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("not found");
  });

  const engine = new engineio.Server({ ...TIMING, cors: { origin: "*" } });
  engine.attach(httpServer, { path: "/engine.io/" });
  engine.on("connection", (socket) => {
    socket.on("message", (data) => socket.send(data));
  });

  const io = new Server(httpServer, {
    ...TIMING,
    path: "/socket.io/",
    connectTimeout: 1000,
    serveClient: false,
    cors: { origin: "*" },
  });
  setUpSocketIO(io);

  // Node's `cors` option only writes headers; refusing a handshake from another origin
  // takes allowRequest (engine.io answers 403 {"code":4,"message":"Forbidden"} on polling,
  // and an HTTP 400 before any 101 on WebSocket). A request without Origin is no browser
  // and is let through.
  const restricted = new Server(httpServer, {
    ...TIMING,
    path: "/restricted/",
    connectTimeout: 1000,
    serveClient: false,
    cors: { origin: ALLOWED_ORIGIN },
    allowRequest: (req, callback) => {
      const origin = req.headers.origin;
      callback(null, origin === undefined || origin === ALLOWED_ORIGIN);
    },
  });
  setUpSocketIO(restricted);

  httpServer.listen(port, HOST, () => {
    const address = httpServer.address();
    process.stdout.write(`listening on ${address.address}:${address.port}\n`);
  });

  const stop = () => {
    io.close();
    restricted.close();
    engine.close();
    httpServer.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main();
