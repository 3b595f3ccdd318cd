#!/usr/bin/env node
/*
 * Well-behaved clients that stay connected while the bad-client tests misbehave next to them.
 *
 *   node sentinel.js --url http://127.0.0.1:PORT
 *
 * Connects socket.io-client 4.x and 2.x, each over WebSocket and over polling, with
 * reconnection off (so any disconnect is final and shows), then prints {"ready": true, ...}.
 * Each line "check" on stdin runs one ack round trip on every client and prints
 * {"check": N, "clients": {name: {ok, transport, id, disconnects, error?}}}.
 * A line "room NAME" puts every client in room NAME, has one of them broadcast an event with
 * binary to the room (io.to(room), sender included), and prints
 * {"room": NAME, "clients": {name: {ok, error?}}}: one broadcast, four encodings (v4/v3 x
 * WebSocket/polling) on the wire.
 * EOF on stdin closes the clients and exits.
 */
"use strict";

const readline = require("node:readline");
const { parseArgs } = require("node:util");

const { values } = parseArgs({ options: { url: { type: "string" } } });
const WAIT_MS = 3000;
const CLIENTS = {
  v4_websocket: [require("socket.io-client"), ["websocket"]],
  v4_polling: [require("socket.io-client"), ["polling"]],
  v2_websocket: [require("socket.io-client-v2"), ["websocket"]],
  v2_polling: [require("socket.io-client-v2"), ["polling"]],
};

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function within(promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("timed out waiting for " + what)), WAIT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function main() {
  const sockets = {};
  const disconnects = {};
  await Promise.all(
    Object.entries(CLIENTS).map(([name, [io, transports]]) => {
      const socket = io(values.url, { forceNew: true, transports, reconnection: false });
      sockets[name] = socket;
      disconnects[name] = [];
      socket.on("disconnect", (reason) => disconnects[name].push(reason));
      return within(new Promise((resolve) => socket.once("connect", resolve)), name + " connect");
    })
  );
  out({ ready: true, ids: Object.fromEntries(Object.entries(sockets).map(([n, s]) => [n, s.id])) });

  let count = 0;
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.startsWith("room ")) {
      out(await roomBroadcast(sockets, line.slice(5).trim()));
      continue;
    }
    if (line.trim() !== "check") continue;
    count += 1;
    const clients = {};
    await Promise.all(
      Object.entries(sockets).map(async ([name, socket]) => {
        const report = {
          transport: socket.io.engine && socket.io.engine.transport ? socket.io.engine.transport.name : "none",
          id: socket.id,
          disconnects: disconnects[name],
        };
        try {
          const tag = name + " check " + count;
          const answer = await within(
            new Promise((resolve) => socket.emit("ack-echo", tag, (...args) => resolve(args))),
            name + " ack"
          );
          report.ok = answer.length === 1 && answer[0] === tag && disconnects[name].length === 0;
          if (!report.ok) report.error = "ack " + JSON.stringify(answer);
        } catch (err) {
          report.ok = false;
          report.error = String(err.message);
        }
        clients[name] = report;
      })
    );
    out({ check: count, clients });
  }
  Object.values(sockets).forEach((s) => s.close());
  process.exit(0);
}

async function roomBroadcast(sockets, room) {
  const entries = Object.entries(sockets);
  const clients = {};
  const payload = [1, 2, 3, 250];
  const arrivals = {};
  for (const [name, socket] of entries) {
    arrivals[name] = within(
      new Promise((resolve) => socket.once("room-msg", (...args) => resolve(args))),
      name + " room-msg"
    );
    arrivals[name].catch(() => {}); // awaited below
  }
  try {
    for (const [name, socket] of entries) {
      await within(new Promise((resolve) => socket.emit("join", room, resolve)), name + " join");
    }
    const sender = sockets.v4_websocket;
    await within(
      new Promise((resolve) => sender.emit("room-say-all", room, "mixed", Buffer.from(payload), resolve)),
      "room-say-all ack"
    );
  } catch (err) {
    return { room, error: String(err.message) };
  }
  for (const [name] of entries) {
    try {
      const args = await arrivals[name];
      const bytes = args[2] ? Array.from(args[2]) : null;
      const ok = args[0] === room && args[1] === "mixed" && JSON.stringify(bytes) === JSON.stringify(payload);
      clients[name] = ok ? { ok } : { ok, error: "got " + JSON.stringify([args[0], args[1], bytes]) };
    } catch (err) {
      clients[name] = { ok: false, error: String(err.message) };
    }
  }
  return { room, clients };
}

setTimeout(() => process.exit(3), 600000).unref(); // never outlive a test session by much
main().catch((err) => {
  out({ fatal: String(err && err.stack) });
  process.exit(1);
});
