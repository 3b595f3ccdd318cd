// A Node socket.io 4.8 server on @socket.io/redis-adapter 8.3 (classic createAdapter with the
// `redis` 4 client), sharing a Redis with thinkio servers in tests/adapters/test_redis_node.py.
//
//   node server.js PORT REDIS_URL KEY [classic|streams|sharded]   (PORT 0: any free port)
//
// "streams" uses @socket.io/redis-streams-adapter 0.3.1 instead (stream and channel prefix KEY);
// "sharded" createShardedAdapter on a Redis Cluster (REDIS_URL: one of its nodes).
// Prints "listening on 127.0.0.1:PORT" once the adapters of "/" and "/chat" are subscribed.
// Namespace "/" is the application: sockets get data {server: "node"} and join the room
// named by the `room` query parameter; they ack "question" with "node answer: <arg>".
// Namespace "/control" is the test's remote control: each event runs one adapter operation
// on "/" and acks its result.
"use strict";

const http = require("http");
const { Server } = require("socket.io");
const { createClient, createCluster } = require("redis");
const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");
const streams = require("@socket.io/redis-streams-adapter");

const [port, redisUrl, key] = [Number(process.argv[2] || 0), process.argv[3], process.argv[4]];
const kind = process.argv[5] || "classic";

async function subscribed(pub, adapter) {
  // The adapter subscribes without letting us await it; its node-specific response channel
  // is subscribed by this server alone, so wait for that one.
  const channel =
    kind === "classic"
      ? `${key}-response#${adapter.nsp.name}#${adapter.uid}#`
      : `${key}#${adapter.nsp.name}#${adapter.uid}#`;
  for (let i = 0; i < 200; i++) {
    const [, count] =
      kind === "sharded"
        ? await pub.sendCommand(channel, true, ["PUBSUB", "SHARDNUMSUB", channel])
        : await pub.sendCommand(["PUBSUB", "NUMSUB", channel]);
    if (Number(count) >= 1) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`adapter of ${adapter.nsp.name} not subscribed`);
}

function describe(socket) {
  // RemoteSocket and Socket alike: what the Python side checks.
  return {
    id: socket.id,
    rooms: [...socket.rooms].sort(),
    data: socket.data,
    query: socket.handshake.query,
    auth: socket.handshake.auth,
  };
}

async function main() {
  const pub =
    kind === "sharded" ? createCluster({ rootNodes: [{ url: redisUrl }] }) : createClient({ url: redisUrl });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);

  const httpServer = http.createServer();
  const adapter =
    kind === "streams"
      ? streams.createAdapter(pub, { streamName: key, channelPrefix: key, blockTimeInMs: 1000 })
      : kind === "sharded"
        ? createShardedAdapter(pub, sub, { channelPrefix: key })
        : createAdapter(pub, sub, { key, requestsTimeout: 2000 });
  const io = new Server(httpServer, {
    adapter,
    pingInterval: 500,
    pingTimeout: 500,
  });

  io.on("connection", (socket) => {
    socket.data = { server: "node" };
    if (socket.handshake.query.room) socket.join(socket.handshake.query.room);
    socket.on("join", (room, ack) => {
      socket.join(room);
      ack("joined");
    });
  });
  io.on("ping-servers", (arg, ack) => ack(`node pong ${arg}`));

  const root = io.of("/");
  const control = io.of("/control");
  const run = (name, fn) =>
    control.on("connection", (socket) => {
      socket.on(name, async (...args) => {
        const ack = args.pop();
        try {
          ack({ ok: await fn(...args) });
        } catch (err) {
          ack({ error: String(err && err.message) });
        }
      });
    });

  run("emit", async (nsp, rooms, except, event, args) => {
    io.of(nsp).to(rooms).except(except).emit(event, ...args);
    return true;
  });
  run("emitBinary", async (event) => {
    root.emit(event, Buffer.from([1, 2, 3]), { nested: Buffer.from("hi") }, new Date(1700000000123));
    return true;
  });
  run("emitWithAck", async (rooms, event, arg) => (await root.to(rooms).timeout(1500).emitWithAck(event, arg)).sort());
  run("fetch", async (rooms) => (await root.in(rooms).fetchSockets()).map(describe));
  run("serverCount", async (nsp) => await io.of(nsp).adapter.serverCount());
  run("allRooms", async () => [...(await root.adapter.allRooms())].sort());
  run("join", async (target, room) => {
    root.in(target).socketsJoin(room);
    return true;
  });
  run("leave", async (target, room) => {
    root.in(target).socketsLeave(room);
    return true;
  });
  run("disconnectSockets", async (target) => {
    root.in(target).disconnectSockets();
    return true;
  });
  run("rooms", async (sid) => {
    const socket = root.sockets.get(sid);
    return socket ? [...socket.rooms].sort() : null;
  });
  run("serverSideEmit", async (event, arg) => await io.serverSideEmitWithAck(event, arg));
  run("remoteEmit", async (sid, event, arg) => {
    const [socket] = (await root.in(sid).fetchSockets()).filter((s) => s.id === sid);
    if (!socket) return false;
    socket.emit(event, arg);
    return true;
  });

  await subscribed(pub, root.adapter);
  await subscribed(pub, io.of("/chat").adapter);
  if (kind === "streams") {
    // The stream is read from "$" by a blocked XREAD: wait until it is issued.
    for (let i = 0; i < 200; i++) {
      const list = String(await pub.sendCommand(["CLIENT", "LIST"]));
      if (list.includes("cmd=xread")) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  httpServer.listen(port, "127.0.0.1", () => {
    console.log(`listening on 127.0.0.1:${httpServer.address().port}`);
  });

  const stop = () => {
    io.close();
    Promise.allSettled([pub.quit(), sub.quit()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
