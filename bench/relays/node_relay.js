// A bare Node socket.io relay: what a JavaScript user would pick instead of the Master.
//
// Apps register on `/app`, a driver sends `event` (or `events` batches) on `/driver`, and each
// message goes round robin to one registered app with a Socket.IO ack. Nothing else happens.
// Usage: node bench/relays/node_relay.js PORT
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

function toMessage(event, id, driverId) {
  // The shape an app receives from the Master (PROTOCOL.md 2.3), so payload sizes compare.
  return {
    id,
    content: event.content ?? "",
    segments: event.segments ?? [],
    platform: "bench",
    driver: driverId,
    chat: event.chat ?? null,
    sender: event.sender ?? null,
    time: event.time ?? null,
    locale: event.locale ?? null,
    attempt: 1,
    traceparent: event.traceparent ?? null,
  };
}

function batchMax(data) {
  const max = data && data.batch && data.batch.max;
  return Number.isInteger(max) && max > 1 ? max : 1;
}

function noop() {}

class Relay {
  constructor() {
    this.apps = []; // [{socket, batchMax}]
    this.turn = 0;
    this.nextId = 0;
  }

  pick() {
    if (this.apps.length === 0) return null;
    this.turn = (this.turn + 1) % this.apps.length;
    return this.apps[this.turn];
  }

  deliver(events, driverId) {
    const perApp = new Map();
    const ids = [];
    for (const event of events) {
      const message = toMessage(event || {}, `m${this.nextId++}`, driverId);
      ids.push(message.id);
      const slot = this.pick();
      if (slot === null) continue; // nobody to deliver to: dropped, as "unrouted"
      if (!perApp.has(slot)) perApp.set(slot, []);
      perApp.get(slot).push(message);
    }
    for (const [slot, messages] of perApp) this.send(slot, messages);
    return ids;
  }

  send(slot, messages) {
    if (messages.length > 1 && slot.batchMax > 1) {
      for (let start = 0; start < messages.length; start += slot.batchMax) {
        const chunk = messages.slice(start, start + slot.batchMax);
        slot.socket.emit("messages", { messages: chunk }, noop);
      }
      return;
    }
    for (const message of messages) slot.socket.emit("message", message, noop);
  }

  drop(socket) {
    this.apps = this.apps.filter((slot) => slot.socket !== socket);
  }
}

function main() {
  const port = Number.parseInt(process.argv[2], 10);
  if (!Number.isInteger(port)) {
    console.error("usage: node node_relay.js PORT");
    process.exit(2);
  }
  const relay = new Relay();
  const httpServer = http.createServer();
  const io = new Server(httpServer, { serveClient: false });

  io.of("/app").on("connection", (socket) => {
    socket.on("register", (data, ack) => {
      relay.apps.push({ socket, batchMax: batchMax(data) });
      if (typeof ack === "function") {
        ack({ success: true, id: socket.id, state: "scheduling", heartbeat_interval: 30 });
      }
    });
    socket.on("heartbeat", (...args) => {
      const ack = args[args.length - 1];
      if (typeof ack === "function") ack({ time_ms: Date.now() });
    });
    socket.on("disconnect", () => relay.drop(socket));
  });

  io.of("/driver").on("connection", (socket) => {
    socket.on("register", (_data, ack) => {
      if (typeof ack === "function") ack({ success: true, id: socket.id });
    });
    socket.on("event", (data, ack) => {
      const [id] = relay.deliver([data], socket.id);
      if (typeof ack === "function") ack({ success: true, id });
    });
    socket.on("events", (data, ack) => {
      const events = data && Array.isArray(data.events) ? data.events : [];
      const ids = relay.deliver(events, socket.id);
      if (typeof ack === "function") ack(ids.map((id) => ({ success: true, id })));
    });
  });

  httpServer.listen(port, "127.0.0.1", () => console.log("ready"));
  for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
}

main();
