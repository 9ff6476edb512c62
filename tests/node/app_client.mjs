// A minimal KenkoGo app written with the socket.io-client package, as JavaScript apps will be.
// Usage: node app_client.mjs <master url> [app name]
// Connects to /app, registers, waits for the `state` event, heartbeats, prints one JSON line
// describing what it saw, and exits 0; any failure exits 1 with the reason on stderr.
import { io } from "socket.io-client";

const [url, name = "node-weather"] = process.argv.slice(2);
if (!url) {
  console.error("usage: node app_client.mjs <master url> [app name]");
  process.exit(1);
}

const STEP_MS = 5000;
const order = [];

function fail(reason) {
  console.error(`node app failed: ${reason}`);
  process.exit(1);
}

function nextEvent(socket, event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' event within ${STEP_MS} ms`)), STEP_MS);
    socket.once(event, (data) => {
      clearTimeout(timer);
      resolve(data);
    });
  });
}

async function main() {
  const auth = process.env.KENKOGO_APP_TOKEN ? { token: process.env.KENKOGO_APP_TOKEN } : {};
  const socket = io(`${url}/app`, { transports: ["websocket"], reconnection: false, auth });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", (err) => reject(new Error(`connect: ${err.message}`)));
  });
  order.push("connect");
  const stateArrives = nextEvent(socket, "state").then((state) => {
    order.push("state");
    return state;
  });
  const ack = await socket.timeout(STEP_MS).emitWithAck("register", {
    name,
    version: "1.0.0",
    description: "an app written in JavaScript",
    locale: "en",
    subscribe: { commands: ["/weather"] },
  });
  order.push("register-ack");
  if (ack.success !== true || typeof ack.id !== "string") {
    throw new Error(`register refused: ${JSON.stringify(ack)}`);
  }
  const state = await stateArrives;
  if (state.state !== ack.state || typeof state.reason !== "string") {
    throw new Error(`unexpected state event: ${JSON.stringify(state)}`);
  }
  const heartbeat = await socket.timeout(STEP_MS).emitWithAck("heartbeat");
  if (typeof heartbeat.time_ms !== "number") {
    throw new Error(`unexpected heartbeat ack: ${JSON.stringify(heartbeat)}`);
  }
  order.push("heartbeat-ack");
  process.stdout.write(JSON.stringify({ ack, state, heartbeat, order }) + "\n");
  socket.disconnect();
}

main().then(
  () => process.exit(0),
  (err) => fail(err.message),
);
