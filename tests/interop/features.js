/*
 * The feature checks of thinkio's interop matrix, shared by every JavaScript client:
 * socket.io-client 4.x and 2.x in Node (node/client.js) and the official browser bundle in
 * Chromium (page.html). The server side is tests/interop/server_app.py.
 *
 * runAll(config) runs the features one after the other, each on connections of its own, and
 * reports each with config.log({feature, ok, ms, transport, error?}). Every wait is bounded.
 *
 * config: io (the client's `io` export), base ("http://127.0.0.1:PORT"), version (2 or 4),
 *   mode ("websocket" | "polling" | "upgrade" | "blocked"), features (names), runId (a tag
 *   put in every request's query, so the server can say which transports it saw), log.
 *
 * "reconnect" logs {phase: "restart-me"} once connected; the test then restarts the server
 * on the same port, and the client must reconnect by itself and work again.
 */
(function (root, factory) {
  if (typeof module === "object" && module.exports) {
    module.exports = factory();
  } else {
    root.interopFeatures = factory();
  }
})(this, function () {
  "use strict";

  var WAIT_MS = 5000;
  var RECONNECT_MS = 8000;

  var MODES = {
    websocket: { transports: ["websocket"], expect: "websocket" },
    polling: { transports: ["polling"], expect: "polling" },
    upgrade: { transports: ["polling", "websocket"], expect: "websocket" },
    // WebSocket is blocked by the network (the Chromium driver blocks ws:// URLs): the client
    // starts on polling as usual, its upgrade probe fails, and it must stay on polling.
    blocked: { transports: ["polling", "websocket"], expect: "polling" },
  };

  // -- small helpers ------------------------------------------------------------------------

  function fail(message) {
    throw new Error(message);
  }

  function withTimeout(promise, ms, what) {
    var timer;
    var timeout = new Promise(function (_, reject) {
      timer = setTimeout(function () {
        reject(new Error("timed out after " + ms + " ms waiting for " + what));
      }, ms);
    });
    return Promise.race([promise, timeout]).finally(function () {
      clearTimeout(timer);
    });
  }

  function waitFor(emitter, event, what, ms) {
    return withTimeout(
      new Promise(function (resolve) {
        emitter.once(event, function () {
          resolve(Array.prototype.slice.call(arguments));
        });
      }),
      ms || WAIT_MS,
      what || event
    );
  }

  function sleep(ms) {
    return new Promise(function (resolve) {
      setTimeout(resolve, ms);
    });
  }

  /* Emit with an ack callback; resolves with the ack's arguments. */
  function emitAck(socket, event) {
    var args = Array.prototype.slice.call(arguments, 2);
    return withTimeout(
      new Promise(function (resolve) {
        socket.emit.apply(
          socket,
          [event].concat(args, [
            function () {
              resolve(Array.prototype.slice.call(arguments));
            },
          ])
        );
      }),
      WAIT_MS,
      "the ack of " + event
    );
  }

  var hasBuffer = typeof Buffer !== "undefined";
  // What the client under test sends binary as: a Buffer in Node; in a browser a Uint8Array,
  // except for the 2.x bundle, whose has-binary2 only knows ArrayBuffer, Blob and File (a
  // typed array would go out as a JSON object), so there an ArrayBuffer. Set by runAll.
  var sendArrayBuffer = false;

  function bytes(list) {
    if (hasBuffer) return Buffer.from(list);
    var view = new Uint8Array(list);
    return sendArrayBuffer ? view.buffer : view;
  }

  function asBytes(value) {
    if (typeof ArrayBuffer !== "undefined") {
      if (value instanceof ArrayBuffer) return new Uint8Array(value);
      if (ArrayBuffer.isView(value)) {
        return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      }
    }
    return null;
  }

  /* Deep equality for JSON values and binary (any byte container equals any other). */
  function same(a, b) {
    var ab = asBytes(a);
    var bb = asBytes(b);
    if (ab || bb) {
      if (!ab || !bb || ab.length !== bb.length) return false;
      for (var i = 0; i < ab.length; i++) if (ab[i] !== bb[i]) return false;
      return true;
    }
    if (Array.isArray(a) || Array.isArray(b)) {
      if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
      for (var j = 0; j < a.length; j++) if (!same(a[j], b[j])) return false;
      return true;
    }
    if (a && b && typeof a === "object" && typeof b === "object") {
      var ka = Object.keys(a).sort();
      var kb = Object.keys(b).sort();
      if (!same(ka, kb)) return false;
      for (var k = 0; k < ka.length; k++) if (!same(a[ka[k]], b[ka[k]])) return false;
      return true;
    }
    return a === b;
  }

  function show(value) {
    try {
      var text = JSON.stringify(value, function (_, v) {
        var b = asBytes(v);
        return b ? "<bytes " + Array.prototype.slice.call(b, 0, 8).join(",") + "… len " + b.length + ">" : v;
      });
      return text.length > 300 ? text.slice(0, 300) + "…" : text;
    } catch (e) {
      return String(value);
    }
  }

  function expectSame(got, want, what) {
    if (!same(got, want)) fail(what + ": got " + show(got) + ", want " + show(want));
  }

  function errorText(err) {
    if (err === undefined || err === null) return String(err);
    if (typeof err === "string") return err;
    if (err.message !== undefined) return String(err.message);
    return show(err);
  }

  // -- the session of one feature -----------------------------------------------------------

  function Session(config, feature) {
    this.config = config;
    this.mode = MODES[config.mode] || fail("unknown mode " + config.mode);
    this.runId = config.runId + "-" + feature;
    this.managers = [];
  }

  Session.prototype.manager = function () {
    var opts = {
      transports: this.mode.transports,
      forceNew: true,
      reconnection: true,
      reconnectionDelay: 100,
      reconnectionDelayMax: 300,
      randomizationFactor: 0,
      timeout: WAIT_MS,
      query: { run: this.runId },
    };
    var manager = new this.config.io.Manager(this.config.base, opts);
    // Note failed upgrade probes of each engine (a new one after every reconnection), so the
    // "blocked" mode can tell the upgrade was tried. Engines probe right after "open".
    manager.on("open", function () {
      var engine = manager.engine;
      engine.on("upgradeError", function () {
        engine.__upgradeFailed = true;
      });
    });
    this.managers.push(manager);
    return manager;
  };

  /* A socket on namespace nsp of manager (a fresh manager when none is given). */
  Session.prototype.socket = function (nsp, token, manager) {
    manager = manager || this.manager();
    var opts = {};
    if (token !== undefined) {
      // 4.x sends auth in the CONNECT packet; 2.x as a query on the namespace (PROTOCOL.md 4).
      if (this.config.version >= 3) opts.auth = { token: token };
      else opts.query = "token=" + encodeURIComponent(token);
    }
    return manager.socket(nsp, opts);
  };

  /* Resolves when the socket is connected; rejects with the server's refusal. */
  Session.prototype.connected = function (socket, what) {
    if (socket.connected) return Promise.resolve();
    return withTimeout(
      new Promise(function (resolve, reject) {
        socket.once("connect", resolve);
        socket.once("connect_error", function (err) {
          reject(new Error("connect_error: " + errorText(err)));
        });
        socket.once("error", function (err) {
          reject(new Error("error: " + errorText(err)));
        });
      }),
      WAIT_MS,
      what || "connect"
    );
  };

  /* Resolves with the text of the refusal a namespace connection gets (4.x: connect_error,
   * 2.x: error), rejects if it connects instead. */
  Session.prototype.refused = function (socket, what) {
    var version = this.config.version;
    return withTimeout(
      new Promise(function (resolve, reject) {
        socket.once("connect", function () {
          reject(new Error(what + " connected; it should have been refused"));
        });
        socket.once(version >= 3 ? "connect_error" : "error", function (err) {
          resolve(err);
        });
      }),
      WAIT_MS,
      what + " to be refused"
    );
  };

  Session.prototype.open = async function (nsp, token, manager) {
    var socket = this.socket(nsp || "/", token, manager);
    await this.connected(socket, "connect to " + (nsp || "/"));
    return socket;
  };

  function transportOf(socket) {
    var engine = socket.io.engine;
    return engine && engine.transport ? engine.transport.name : "none";
  }

  /* Wait until the transport is the one the mode expects; returns its name. */
  Session.prototype.settled = async function (socket) {
    var engine = socket.io.engine;
    if (this.config.mode === "upgrade" && transportOf(socket) !== "websocket") {
      await waitFor(engine, "upgrade", "the upgrade to WebSocket", WAIT_MS);
    }
    if (this.config.mode === "blocked" && !engine.__upgradeFailed) {
      // The probe must have been tried and failed, or the check proves nothing.
      await waitFor(engine, "upgradeError", "the blocked upgrade to fail", WAIT_MS);
    }
    var name = transportOf(socket);
    if (name !== this.mode.expect) fail("transport is " + name + ", expected " + this.mode.expect);
    return name;
  };

  /* One echo round trip. */
  async function roundTrip(socket, tag) {
    var got = waitFor(socket, "echo-back", "echo-back " + tag);
    socket.emit("echo", tag);
    expectSame(await got, [tag], "echo " + tag);
  }

  Session.prototype.close = function () {
    this.managers.forEach(function (manager) {
      try {
        manager.disconnect();
      } catch (e) {
        /* already closed */
      }
    });
  };

  // -- the features ---------------------------------------------------------------------------

  var FEATURES = {};

  FEATURES.text = async function (s) {
    var socket = await s.open("/");
    var payload = [
      "héllo wörld ☃ 😀 \u2028 \"quoted\" \\ \n",
      42,
      -3.5,
      0,
      1e21,
      true,
      false,
      null,
      { nested: { list: [1, "two", { three: 3 }], emoji: "🎉" }, empty: {} },
      [],
      "x".repeat(100000) + "😀",
    ];
    var got = waitFor(socket, "echo-back");
    socket.emit("echo", ...payload); // right after connect: during the upgrade, if any
    expectSame(await got, payload, "echo-back");
    var transport = await s.settled(socket);
    await roundTrip(socket, "after settling on " + transport);
    return transport;
  };

  FEATURES.binary = async function (s) {
    var socket = await s.open("/");
    var all = [];
    for (var i = 0; i < 256; i++) all.push(i);
    var payload = [
      bytes(all),
      { label: "nested", data: bytes([1, 2, 3]), list: [bytes([255]), "text", bytes([0, 0])] },
      "plain text too",
    ];
    var event = waitFor(socket, "binary-back");
    var ack = emitAck(socket, "binary-echo", ...payload);
    expectSame(await event, payload, "binary-back event");
    expectSame(await ack, payload, "binary ack (server to client)");
    socket.on("question-binary", function (question, callback) {
      callback(bytes([question.length, 1, 2, 3]), "answered");
    });
    var answer = await emitAck(socket, "ask-client-binary", "abcd");
    expectSame(answer, [bytes([4, 1, 2, 3]), "answered"], "binary ack (client to server)");
    var transport = await s.settled(socket);
    var again = await emitAck(socket, "binary-echo", bytes([9, 8, 7]));
    expectSame(again, [bytes([9, 8, 7])], "binary ack on " + transport);
    return transport;
  };

  FEATURES.acks = async function (s) {
    var socket = await s.open("/");
    expectSame(
      await emitAck(socket, "ack-echo", 1, "two", { three: [3] }),
      [1, "two", { three: [3] }],
      "ack with arguments"
    );
    expectSame(await emitAck(socket, "ack-echo"), [], "ack without arguments");
    socket.on("question", function (question, callback) {
      callback("answer to " + question, 42);
    });
    expectSame(
      await emitAck(socket, "ask-client", "what?"),
      ["answer to what?", 42],
      "server-to-client ack"
    );
    // Several acks in flight at once, answered in any order the server likes.
    var many = [];
    for (var n = 0; n < 20; n++) many.push(emitAck(socket, "ack-echo", n));
    var results = await Promise.all(many);
    results.forEach(function (r, n) {
      expectSame(r, [n], "concurrent ack " + n);
    });
    var transport = await s.settled(socket);
    expectSame(await emitAck(socket, "ack-echo", transport), [transport], "ack after settling");
    return transport;
  };

  FEATURES.namespaces = async function (s) {
    var manager = s.manager();
    var main = await s.open("/", undefined, manager);
    var custom = await s.open("/custom", "abc", manager);
    if (main.io.engine !== custom.io.engine) fail("the namespaces do not share one connection");
    var me = (await emitAck(custom, "whoami"))[0];
    expectSame(me.namespace, "/custom", "custom namespace name");
    expectSame(me.auth, { token: "abc" }, "custom namespace auth");
    if (custom.id !== undefined && custom.id !== me.id) {
      fail("socket id: client has " + custom.id + ", server has " + me.id);
    }
    expectSame((await emitAck(main, "whoami"))[0].namespace, "/", "main namespace name");

    var mainGotEcho = false;
    main.on("echo-back", function () {
      mainGotEcho = true;
    });
    var got = waitFor(custom, "echo-back", "echo-back on /custom");
    custom.emit("echo", "to custom");
    expectSame(await got, ["/custom", "to custom"], "echo-back on /custom");
    await emitAck(main, "ack-echo"); // anything sent to / before this ack has arrived now
    if (mainGotEcho) fail("/ received the echo meant for /custom");

    var unknown = await s.refused(s.socket("/nope", undefined, manager), "/nope");
    var text = errorText(unknown);
    if (text !== "Invalid namespace") fail("unknown namespace refused with " + show(unknown));

    var denied = await s.refused(s.socket("/private", "wrong", manager), "/private");
    // 4.x: {message, data}; 2.x gets err.data || err.message, as from Node.
    var ok =
      s.config.version >= 3
        ? denied.message === "not allowed" && same(denied.data, { hint: "token" })
        : same(denied, { hint: "token" }) || denied === "not allowed";
    if (!ok) fail("middleware refusal: got " + show(denied));
    // A manager keeps one socket per namespace (and its auth): a fresh one for the retry.
    var privateSocket = await s.open("/private", "letmein");
    expectSame((await emitAck(privateSocket, "whoami"))[0].namespace, "/private", "/private");

    var transport = await s.settled(main);
    expectSame((await emitAck(custom, "whoami"))[0].namespace, "/custom", "/custom after refusals");
    expectSame(await emitAck(main, "ack-echo", "still"), ["still"], "/ after refusals");
    return transport;
  };

  FEATURES.rooms = async function (s) {
    var room = "room-" + s.runId + "-" + Math.random().toString(36).slice(2);
    var a = await s.open("/");
    var b = await s.open("/");
    var c = await s.open("/");
    var inbox = { a: [], b: [], c: [] };
    [
      ["a", a],
      ["b", b],
      ["c", c],
    ].forEach(function (pair) {
      pair[1].on("room-msg", function () {
        inbox[pair[0]].push(Array.prototype.slice.call(arguments));
      });
    });
    var roomsOfA = (await emitAck(a, "join", room))[0];
    if (roomsOfA.indexOf(room) < 0) fail("join: rooms of A are " + show(roomsOfA));
    await emitAck(b, "join", room);
    await Promise.all([s.settled(a), s.settled(b), s.settled(c)]);

    // socket.to(room): B gets it, the sender A and the outsider C do not.
    var toB = waitFor(b, "room-msg", "room-msg at B");
    expectSame(await emitAck(a, "room-say", room, "hi", bytes([7, 8, 9])), ["sent"], "room-say");
    expectSame(await toB, [room, "hi", bytes([7, 8, 9])], "room-msg at B");
    await emitAck(c, "ack-echo"); // C's copy, if any, would have come before this ack
    if (inbox.a.length) fail("the sender got its own socket.to(room) broadcast");
    if (inbox.c.length) fail("a socket outside the room got the broadcast");

    // io.to(room): A and B get it, C does not.
    var atA = waitFor(a, "room-msg", "room-msg at A");
    var atB = waitFor(b, "room-msg", "second room-msg at B");
    expectSame(await emitAck(a, "room-say-all", room, "all"), ["sent"], "room-say-all");
    expectSame(await atA, [room, "all"], "io.to(room) at A");
    expectSame(await atB, [room, "all"], "io.to(room) at B");
    await emitAck(c, "ack-echo");
    if (inbox.c.length) fail("a socket outside the room got the io.to(room) broadcast");
    return transportOf(a);
  };

  FEATURES.reconnect = async function (s) {
    var socket = await s.open("/");
    await s.settled(socket);
    await roundTrip(socket, "before the restart");
    var down = waitFor(socket, "disconnect", "the disconnect on server restart", RECONNECT_MS);
    var up = down.then(function () {
      return waitFor(socket, "connect", "the reconnection", RECONNECT_MS);
    });
    up.catch(function () {}); // awaited below; no unhandled rejection meanwhile
    s.config.log({ phase: "restart-me" });
    var reason = (await down)[0];
    await up;
    var transport = await s.settled(socket);
    await roundTrip(socket, "after the restart");
    return transport + " (disconnect reason: " + reason + ")";
  };

  // -- running ------------------------------------------------------------------------------

  async function runOne(config, name) {
    var s = new Session(config, name);
    var started = Date.now();
    var limit = name === "reconnect" ? 3 * RECONNECT_MS : 4 * WAIT_MS;
    try {
      var detail = await withTimeout(FEATURES[name](s), limit, "feature " + name);
      config.log({ feature: name, ok: true, ms: Date.now() - started, detail: detail, run: s.runId });
    } catch (err) {
      config.log({
        feature: name,
        ok: false,
        ms: Date.now() - started,
        error: String((err && err.message) || err),
        run: s.runId,
      });
    } finally {
      s.close();
    }
  }

  async function runAll(config) {
    sendArrayBuffer = !hasBuffer && config.version < 3;
    var names = config.features || Object.keys(FEATURES);
    for (var i = 0; i < names.length; i++) {
      if (!FEATURES[names[i]]) {
        config.log({ feature: names[i], ok: false, error: "no such feature" });
        continue;
      }
      await runOne(config, names[i]);
    }
    await sleep(0);
  }

  return { FEATURES: Object.keys(FEATURES), MODES: MODES, runAll: runAll };
});
