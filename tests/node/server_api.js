// Real socket.io-client 4.x runs for tests/nodeapi: acks as Node does them, and Node's server
// API on thinkio. One JSON line per result on stdout, then {"done": true}.
//
//   node server_api.js URL TRANSPORT SCENARIO [NAMESPACE]
//
// TRANSPORT: polling | websocket (the only one the client may use).
// SCENARIO:
//   retries   a client with `retries: 3, ackTimeout: 500` emits "flaky" {offset: "m-1"}
//             once; prints {ack: ...} when it resolves (or {error}).
//   no-ack    `socket.timeout(200).emitWithAck` of "silent" (a handler that owns the ack and
//             never calls it) and of "no-ack" (a handler returning NO_ACK), then
//             `socket.timeout(5000)` of "answered" (an answer due at once: the long budget is
//             for a loaded CI machine, where a polling round trip has taken over 200 ms);
//             prints {event, timedOut: true} or {event, ack}.
//   answer    connects, answers the server's "question" events with `cb("answer:" + arg)`,
//             except "stay-silent" (no answer); emits "ready", waits for "finish", prints
//             {questions} (what it was asked).
//   cookie    connects with `withCredentials: true`, emits "ready" (acked), prints
//             {engineId, cookies: [{name, value}] (the client's cookie jar), ack}.
//   namespace connects to NAMESPACE; prints {connected, id} or {connectError}.
// Exits 1 with {error} after 15 seconds at most.
"use strict";

const { io } = require("socket.io-client");

const [url, transport, scenario, namespace] = process.argv.slice(2);
const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const fail = (error) => {
  say({ error: String(error && error.stack ? error.stack : error) });
  process.exit(1);
};
const hardStop = setTimeout(() => fail("timed out"), 15000);

function connect(extra = {}, nsp = "/") {
  const socket = io(url + nsp, {
    transports: [transport],
    forceNew: true,
    reconnection: false,
    ...extra,
  });
  return new Promise((resolve, reject) => {
    socket.on("connect", () => resolve(socket));
    socket.on("connect_error", (err) => reject(err));
  });
}

async function tryAck(socket, event, arg, timeout = 200) {
  try {
    const ack = await socket.timeout(timeout).emitWithAck(event, arg);
    say({ event, ack });
  } catch (err) {
    say({ event, timedOut: err.message === "operation has timed out", message: err.message });
  }
}

const scenarios = {
  async retries() {
    const socket = await connect({ retries: 3, ackTimeout: 500 });
    try {
      const ack = await socket.emitWithAck("flaky", { offset: "m-1" });
      say({ ack });
    } catch (err) {
      say({ error: err.message });
    }
    socket.close();
  },

  async "no-ack"() {
    const socket = await connect();
    await tryAck(socket, "silent", 1);
    await tryAck(socket, "no-ack", 2);
    await tryAck(socket, "answered", 3, 5000);
    socket.close();
  },

  async answer() {
    const socket = await connect();
    const questions = [];
    socket.on("question", (arg, cb) => {
      questions.push(arg);
      if (arg !== "stay-silent") cb("answer:" + arg);
    });
    const finished = new Promise((resolve) => socket.on("finish", resolve));
    socket.emit("ready");
    await finished;
    say({ questions });
    socket.close();
  },

  async cookie() {
    const socket = await connect({ withCredentials: true });
    // Over polling the client's cookie jar takes the handshake's Set-Cookie, and sends it
    // back with every later request (what a sticky load balancer routes on).
    const ack = await socket.timeout(2000).emitWithAck("ready");
    const jar = socket.io.engine._cookieJar;
    const cookies = jar ? [...jar.cookies].map(([name, c]) => ({ name, value: c.value })) : [];
    say({ engineId: socket.io.engine.id, cookies, ack });
    socket.close();
  },

  async namespace() {
    try {
      const socket = await connect({}, namespace);
      const ack = await socket.timeout(2000).emitWithAck("where");
      say({ connected: true, id: socket.id, ack });
      socket.close();
    } catch (err) {
      say({ connectError: err.message });
    }
  },
};

(async () => {
  const run = scenarios[scenario];
  if (!run) throw new Error(`unknown scenario ${scenario}`);
  await run();
  clearTimeout(hardStop);
  say({ done: true });
})().catch(fail);
