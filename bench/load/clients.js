// Socket.IO peers the load process plays: apps on `/app` and one driver on `/driver`.
"use strict";

const { io } = require("socket.io-client");

function connect(url, namespace, { auth, deflate, timeoutMs }) {
  // Open one connection of its own (forceNew: no multiplexing), websocket only, no reconnects.
  return new Promise((resolve, reject) => {
    const socket = io(url + namespace, {
      forceNew: true,
      reconnection: false,
      transports: ["websocket"],
      timeout: timeoutMs,
      perMessageDeflate: deflate ? { threshold: 1024 } : false,
      auth,
    });
    const fail = (err) => {
      socket.close();
      reject(new Error(`connect ${namespace}: ${describe(err)}`));
    };
    socket.once("connect", () => {
      socket.off("connect_error", fail);
      resolve(socket);
    });
    socket.once("connect_error", fail);
  });
}

function describe(err) {
  // connect_error carries the server's refusal in `data` and transport failures in `description`.
  if (!err) return String(err);
  const parts = [err.message || "refused by the server, no reason given"];
  if (err.data !== undefined) parts.push(JSON.stringify(err.data));
  if (err.description !== undefined) parts.push(String(err.description.message || err.description));
  return parts.join(" ");
}

function seqOf(message) {
  // The driver writes "bench <seq>" as content; the sequence number survives any relay.
  const content = message && message.content;
  return typeof content === "string" ? Number.parseInt(content.slice(6), 10) : Number.NaN;
}

async function startApp(url, options) {
  // Connect and register one app; it acks each message at once and reports it to `sink`.
  const { name, batchMax, token, deflate, timeoutMs, sink, heartbeatMs } = options;
  const socket = await connect(url, "/app", {
    auth: token ? { token } : undefined,
    deflate,
    timeoutMs,
  });
  let state = null;
  let onScheduling = null;
  socket.on("state", (data) => {
    state = data && data.state;
    if (state === "scheduling" && onScheduling) onScheduling();
  });
  socket.on("message", (message, ack) => {
    const now = performance.now();
    if (typeof ack === "function") ack({});
    sink.receive(seqOf(message), now);
  });
  socket.on("messages", (data, ack) => {
    const now = performance.now();
    const messages = data && Array.isArray(data.messages) ? data.messages : [];
    if (typeof ack === "function") ack(messages.map(() => ({})));
    for (const message of messages) sink.receive(seqOf(message), now);
  });
  const register = { name, version: "1.0.0", description: "benchmark app" };
  if (batchMax > 1) register.batch = { max: batchMax };
  let answer;
  try {
    answer = await socket.timeout(timeoutMs).emitWithAck("register", register);
  } catch (err) {
    socket.close();
    throw new Error(`register: ${err.message}`);
  }
  if (!answer || answer.success !== true) {
    socket.close();
    throw new Error(`register refused: ${JSON.stringify(answer)}`);
  }
  if (state === null) state = answer.state || "scheduling";
  if (state !== "scheduling") {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("app never became scheduling")), timeoutMs);
      onScheduling = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  const app = { socket, id: answer.id, timers: [] };
  if (heartbeatMs > 0) {
    // Spread the fleet's heartbeats over the interval instead of sending them all at once.
    const first = setTimeout(() => {
      socket.emit("heartbeat", () => {});
      app.timers.push(setInterval(() => socket.emit("heartbeat", () => {}), heartbeatMs));
    }, Math.random() * heartbeatMs);
    app.timers.push(first);
  }
  return app;
}

function stopApp(app) {
  for (const timer of app.timers) clearTimeout(timer);
  app.socket.close();
}

async function startDriver(url, { token, deflate, timeoutMs }) {
  // Connect and register the one driver that injects the load.
  const socket = await connect(url, "/driver", { auth: { token }, deflate, timeoutMs });
  let answer;
  try {
    answer = await socket
      .timeout(timeoutMs)
      .emitWithAck("register", { platform: "bench", self_id: "1", name: "bench" });
  } catch (err) {
    socket.close();
    throw new Error(`driver register: ${err.message}`);
  }
  if (!answer || answer.success !== true) {
    socket.close();
    throw new Error(`driver register refused: ${JSON.stringify(answer)}`);
  }
  return socket;
}

module.exports = { startApp, stopApp, startDriver };
