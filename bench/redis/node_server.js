// One Node socket.io 4.8 node on @socket.io/redis-adapter 8.3 for bench/redis/bench.py.
//
//   node node_server.js REDIS_URL KEY
//
// Prints "listening on 127.0.0.1:PORT" once its adapter is subscribed. Namespace "/control":
// "burst"(n, size, ack) broadcasts n events "tick" (an index and `size` bytes of text) to "/"
// as fast as it can, then acks.
"use strict";

const http = require("http");
const { Server } = require("socket.io");
const { createClient } = require("redis");
const { createAdapter } = require("@socket.io/redis-adapter");

const [redisUrl, key] = [process.argv[2], process.argv[3]];

async function main() {
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const httpServer = http.createServer();
  const io = new Server(httpServer, { adapter: createAdapter(pub, sub, { key }) });
  io.of("/control").on("connection", (socket) => {
    socket.on("burst", (n, size, ack) => {
      const text = "x".repeat(size);
      for (let i = 0; i < n; i++) io.of("/").emit("tick", i, text);
      ack(true);
    });
  });
  const channel = `${key}-response#/#${io.of("/").adapter.uid}#`;
  for (let i = 0; i < 200; i++) {
    const [, count] = await pub.sendCommand(["PUBSUB", "NUMSUB", channel]);
    if (Number(count) >= 1) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  httpServer.listen(0, "127.0.0.1", () => {
    console.log(`listening on 127.0.0.1:${httpServer.address().port}`);
  });
  const stop = () => process.exit(0);
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
